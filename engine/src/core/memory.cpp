#include "awq/core/memory.h"

#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace awq {

namespace {
// Reads a "Key:   1234 kB" line of a /proc file.
uint64_t procKilobytes(const char *file, const char *key)
{
    std::FILE *f = std::fopen(file, "r");
    if (!f)
        return 0;
    char line[256];
    uint64_t value = 0;
    const size_t keyLen = std::strlen(key);
    while (std::fgets(line, sizeof line, f)) {
        if (std::strncmp(line, key, keyLen) == 0 && line[keyLen] == ':') {
            unsigned long long kb = 0;
            if (std::sscanf(line + keyLen + 1, "%llu", &kb) == 1)
                value = static_cast<uint64_t>(kb) * 1024;
            break;
        }
    }
    std::fclose(f);
    return value;
}

// A cgroup file holding one number ("max" or a missing file: 0, no limit).
uint64_t cgroupNumber(const char *file)
{
    std::FILE *f = std::fopen(file, "r");
    if (!f)
        return 0;
    unsigned long long value = 0;
    const bool ok = std::fscanf(f, "%llu", &value) == 1;
    std::fclose(f);
    // cgroup v1 writes "no limit" as a huge page-rounded number.
    return ok && value < (1ull << 60) ? static_cast<uint64_t>(value) : 0;
}

uint64_t statusKilobytes(const char *key)
{
    return procKilobytes("/proc/self/status", key);
}
} // namespace

uint64_t currentRssBytes() { return statusKilobytes("VmRSS"); }

SystemMemory systemMemory()
{
    SystemMemory m{procKilobytes("/proc/meminfo", "MemTotal"), procKilobytes("/proc/meminfo", "MemAvailable"),
                   procKilobytes("/proc/meminfo", "SwapFree")};
    uint64_t limit = cgroupNumber("/sys/fs/cgroup/memory.max"), used = cgroupNumber("/sys/fs/cgroup/memory.current");
    if (limit == 0) {
        limit = cgroupNumber("/sys/fs/cgroup/memory/memory.limit_in_bytes");
        used = cgroupNumber("/sys/fs/cgroup/memory/memory.usage_in_bytes");
    }
    if (limit > 0) {
        m.totalBytes = m.totalBytes ? std::min(m.totalBytes, limit) : limit;
        const uint64_t left = limit > used ? limit - used : 0;
        m.availableBytes = m.availableBytes ? std::min(m.availableBytes, left) : left;
    }
    return m;
}

void configureAllocator()
{
#ifdef __GLIBC__
    ::mallopt(M_MMAP_THRESHOLD, 64 << 20);
    ::mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

void releaseFreeMemory()
{
#ifdef __GLIBC__
    ::malloc_trim(0);
#endif
}
uint64_t peakRssBytes() { return statusKilobytes("VmHWM"); }

bool resetPeakRss()
{
    std::FILE *f = std::fopen("/proc/self/clear_refs", "w");
    if (!f)
        return false;
    const bool written = std::fputs("5", f) >= 0;
    return std::fclose(f) == 0 && written;
}

} // namespace awq
