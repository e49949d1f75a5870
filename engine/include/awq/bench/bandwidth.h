#pragma once
// The machine's streaming read bandwidth, measured by this process: the ceiling a
// memory-bound kernel (int4 decode) can reach, printed next to the kernels' GB/s.

#include <cstdint>

namespace awq::bench {

struct BandwidthResult {
    double gbPerSecond = 0; // 1e9 bytes per second, best pass
    uint64_t bytes = 0;     // buffer size streamed per pass
    int threads = 0;
    int passes = 0;
};

// Sums a buffer of `bytes` (0: 1 GiB, capped at a quarter of the available memory and
// rounded to whole pages) with `threads` threads (0: LibTorch's intra-op thread count),
// each reading its own slice, which it also wrote first so that its pages are local.
// Returns the best of `passes` passes. Runs on the calling thread plus the workers it
// starts; throws Error(OutOfMemory) when the buffer cannot be allocated.
BandwidthResult measureReadBandwidth(int threads = 0, uint64_t bytes = 0, int passes = 5);

} // namespace awq::bench
