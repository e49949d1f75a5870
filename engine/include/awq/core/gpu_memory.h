#pragma once
// GPU memory as the driver reports it (used and total per NVIDIA device), read through
// NVML, which is loaded with dlopen("libnvidia-ml.so.1") on first use: no build-time
// dependency, no CUDA context created (so asking costs no VRAM), and an empty answer on a
// machine without the NVIDIA driver. Torch-free; safe from any thread.

#include <cstdint>
#include <string>
#include <vector>

namespace awq {

struct GpuMemory {
    int index = 0;
    std::string name;     // "NVIDIA H100 80GB HBM3"
    uint64_t usedBytes = 0;
    uint64_t totalBytes = 0;
};

// One entry per device; empty when NVML is not there or fails (the reason, if any, in
// gpuMemoryProblem()).
std::vector<GpuMemory> queryGpuMemory();
// Why the last query found no devices ("" when it did, or when there is no driver at all).
std::string gpuMemoryProblem();

} // namespace awq
