#pragma once
// The devices a model can run on in this process: the CPU always, and each CUDA GPU that
// LibTorch sees (none with Debian's CPU-only LibTorch). Torch-free header, so the UI can
// list them.

#include <string>
#include <vector>

namespace awq {

struct ComputeDevice {
    std::string id;    // "cpu", "cuda:0", ... (c10::Device syntax)
    std::string label; // "CPU", "CUDA GPU 0"
};

std::vector<ComputeDevice> availableDevices();

// The instruction set the CPU int4 kernels use in this process ("avx512_vnni", "avx2", ...):
// the best the CPU has unless AWQ_CPU_ISA caps it.
std::string cpuInstructionSet();

// Throws Error(Device) naming `id` when it is not one of availableDevices() (for a CUDA id
// on a LibTorch without CUDA, saying so).
void checkDevice(const std::string &id);

} // namespace awq
