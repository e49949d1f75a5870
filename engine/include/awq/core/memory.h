#pragma once
// Process memory as the operating system reports it (Linux /proc/self/status):
// resident set size now and its high-water mark. 0 where unavailable.

#include <cstdint>

namespace awq {

uint64_t currentRssBytes();
uint64_t peakRssBytes();

} // namespace awq
