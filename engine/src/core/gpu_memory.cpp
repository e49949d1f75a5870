#include "awq/core/gpu_memory.h"

#include <dlfcn.h>

#include <mutex>

namespace awq {

namespace {

// The few NVML entry points used, with NVML's C types (nvml.h is not needed to build).
using nvmlReturn_t = int;
using nvmlDevice_t = void *;
struct NvmlMemory {
    unsigned long long total, free, used;
};
constexpr nvmlReturn_t kNvmlSuccess = 0;

struct Nvml {
    bool ready = false;
    std::string problem;
    nvmlReturn_t (*deviceGetCount)(unsigned int *) = nullptr;
    nvmlReturn_t (*deviceGetHandleByIndex)(unsigned int, nvmlDevice_t *) = nullptr;
    nvmlReturn_t (*deviceGetMemoryInfo)(nvmlDevice_t, NvmlMemory *) = nullptr;
    nvmlReturn_t (*deviceGetName)(nvmlDevice_t, char *, unsigned int) = nullptr;
};

template <typename F>
bool resolve(void *library, const char *name, F &out)
{
    out = reinterpret_cast<F>(dlsym(library, name));
    return out != nullptr;
}

// Loaded once per process and never unloaded (NVML keeps driver state).
Nvml &nvml()
{
    static Nvml instance;
    static std::once_flag once;
    std::call_once(once, [] {
        void *library = dlopen("libnvidia-ml.so.1", RTLD_LAZY | RTLD_LOCAL);
        if (!library)
            return; // no NVIDIA driver: not a problem worth reporting
        nvmlReturn_t (*init)() = nullptr;
        const bool found = resolve(library, "nvmlInit_v2", init)
                           && resolve(library, "nvmlDeviceGetCount_v2", instance.deviceGetCount)
                           && resolve(library, "nvmlDeviceGetHandleByIndex_v2", instance.deviceGetHandleByIndex)
                           && resolve(library, "nvmlDeviceGetMemoryInfo", instance.deviceGetMemoryInfo)
                           && resolve(library, "nvmlDeviceGetName", instance.deviceGetName);
        if (!found) {
            instance.problem = "libnvidia-ml.so.1 lacks the NVML functions AWQ Studio reads";
            return;
        }
        const nvmlReturn_t rc = init();
        if (rc != kNvmlSuccess) {
            instance.problem = "NVML did not start (error " + std::to_string(rc) + ")";
            return;
        }
        instance.ready = true;
    });
    return instance;
}

std::mutex &queryMutex()
{
    static std::mutex m;
    return m;
}

} // namespace

std::vector<GpuMemory> queryGpuMemory()
{
    Nvml &n = nvml();
    std::vector<GpuMemory> devices;
    if (!n.ready)
        return devices;
    std::lock_guard<std::mutex> lock(queryMutex());
    unsigned int count = 0;
    if (n.deviceGetCount(&count) != kNvmlSuccess)
        return devices;
    for (unsigned int i = 0; i < count; ++i) {
        nvmlDevice_t device = nullptr;
        NvmlMemory memory{};
        if (n.deviceGetHandleByIndex(i, &device) != kNvmlSuccess || n.deviceGetMemoryInfo(device, &memory) != kNvmlSuccess)
            continue;
        GpuMemory gpu;
        gpu.index = static_cast<int>(i);
        char name[96] = {};
        if (n.deviceGetName(device, name, sizeof name) == kNvmlSuccess)
            gpu.name = name;
        gpu.usedBytes = memory.used;
        gpu.totalBytes = memory.total;
        devices.push_back(gpu);
    }
    return devices;
}

std::string gpuMemoryProblem()
{
    return nvml().problem;
}

} // namespace awq
