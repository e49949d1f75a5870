#pragma once
// Process memory as the operating system reports it (Linux /proc/self/status):
// resident set size now and its high-water mark. 0 where unavailable.

#include <cstdint>

namespace awq {

uint64_t currentRssBytes();
uint64_t peakRssBytes();
// Resets the kernel's high-water mark (peakRssBytes()) to the current RSS, so that a
// measurement sees only its own peak (writes "5" to /proc/self/clear_refs, Linux 4.0+).
// Returns false where the kernel does not allow it; peakRssBytes() then keeps the
// process-lifetime peak.
bool resetPeakRss();

// The machine's memory (Linux /proc/meminfo MemTotal, MemAvailable, SwapFree), lowered to
// the limit of the control group the process runs in (cgroup v2 memory.max, or v1
// memory.limit_in_bytes) when there is one; zeros if unknown.
struct SystemMemory {
    uint64_t totalBytes = 0;
    uint64_t availableBytes = 0; // RAM that can be had without swapping
    uint64_t swapFreeBytes = 0;
};
SystemMemory systemMemory();

// Process-wide allocator policy for tensor-heavy jobs (call once, early, from main()).
// glibc's default lets its mmap threshold float upwards, so tensors of tens of MB come and
// go through fresh mmap()s: on a 2-core quantization run that cost a quarter of the CPU time
// in page faults. This fixes the threshold at 64 MiB (larger blocks are still returned to
// the system when freed) and keeps up to 256 MiB of freed heap for reuse.
void configureAllocator();
// Returns freed heap memory to the system (between layers of a long job).
void releaseFreeMemory();

} // namespace awq
