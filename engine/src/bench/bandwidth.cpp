#include "awq/bench/bandwidth.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include <ATen/Parallel.h>

#include "awq/core/error.h"
#include "awq/core/memory.h"

namespace awq::bench {

namespace {

// Integer addition is associative, so the compiler vectorizes this loop as it is (a float
// sum would stay scalar without -ffast-math and measure the adder, not the memory).
uint64_t sumWords(const uint64_t *p, size_t n)
{
    uint64_t a = 0, b = 0, c = 0, d = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a += p[i];
        b += p[i + 1];
        c += p[i + 2];
        d += p[i + 3];
    }
    for (; i < n; ++i)
        a += p[i];
    return a + b + c + d;
}

// Runs fn(t, begin, end) on `threads` threads over [0, words), each thread one slice.
template <typename Fn>
void onSlices(int threads, size_t words, Fn &&fn)
{
    std::vector<std::thread> pool;
    const size_t per = (words + static_cast<size_t>(threads) - 1) / static_cast<size_t>(threads);
    for (int t = 1; t < threads; ++t) {
        const size_t begin = std::min(words, per * static_cast<size_t>(t));
        pool.emplace_back([&fn, t, begin, end = std::min(words, begin + per)] { fn(t, begin, end); });
    }
    fn(0, 0, std::min(words, per));
    for (auto &th : pool)
        th.join();
}

} // namespace

BandwidthResult measureReadBandwidth(int threads, uint64_t bytes, int passes)
{
    if (threads <= 0)
        threads = std::max(1, at::get_num_threads());
    passes = std::max(1, passes);
    if (bytes == 0) {
        bytes = uint64_t(1) << 30;
        const uint64_t available = systemMemory().availableBytes;
        if (available > 0)
            bytes = std::min(bytes, available / 4);
    }
    constexpr uint64_t kPage = 4096;
    bytes = std::max(kPage, bytes / kPage * kPage);
    const size_t words = bytes / sizeof(uint64_t);
    std::unique_ptr<uint64_t[]> buffer(new (std::nothrow) uint64_t[words]);
    AWQ_CHECK(buffer, OutOfMemory, "cannot allocate ", bytes, " bytes to measure the memory bandwidth");
    uint64_t *data = buffer.get();
    onSlices(threads, words, [data](int, size_t begin, size_t end) {
        for (size_t i = begin; i < end; ++i)
            data[i] = i;
    });

    std::vector<uint64_t> sums(static_cast<size_t>(threads));
    double best = 0;
    for (int pass = 0; pass < passes; ++pass) {
        const auto start = std::chrono::steady_clock::now();
        onSlices(threads, words, [&](int t, size_t begin, size_t end) {
            sums[static_cast<size_t>(t)] = sumWords(data + begin, end - begin);
        });
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        best = std::max(best, static_cast<double>(bytes) / seconds / 1e9);
    }
    // The sums must be used, or the reads could be optimized away.
    uint64_t total = 0;
    for (uint64_t s : sums)
        total += s;
    const uint64_t n = words;
    AWQ_ASSERT(total == n * (n - 1) / 2, "bandwidth buffer sum mismatch");
    return {best, bytes, threads, passes};
}

} // namespace awq::bench
