#include "awq/runtime/devices.h"

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include "awq/core/error.h"
#include "awq/nn/quant_linear.h"

namespace awq {

std::string cpuInstructionSet()
{
    return kernels::cpuIsaName(QuantLinear::isa());
}

std::vector<ComputeDevice> availableDevices()
{
    std::vector<ComputeDevice> devices = {{"cpu", "CPU"}};
    if (at::hasCUDA()) {
        const int gpus = at::detail::getCUDAHooks().getNumGPUs();
        for (int i = 0; i < gpus; ++i)
            devices.push_back({"cuda:" + std::to_string(i), "CUDA GPU " + std::to_string(i)});
    }
    return devices;
}

void checkDevice(const std::string &id)
{
    for (const ComputeDevice &d : availableDevices())
        if (d.id == id)
            return;
    if (id.rfind("cuda", 0) == 0 && !at::hasCUDA())
        fail(ErrorCode::Device, "device '", id, "': this LibTorch has no CUDA support (or no GPU is visible)");
    std::string known;
    for (const ComputeDevice &d : availableDevices())
        known += (known.empty() ? "" : ", ") + d.id;
    fail(ErrorCode::Device, "unknown device '", id, "' (available: ", known, ")");
}

} // namespace awq
