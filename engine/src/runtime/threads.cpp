#include "awq/runtime/threads.h"

#include <atomic>
#include <cstring>
#include <thread>

#include <dlfcn.h>

#include <ATen/Parallel.h>

namespace awq {

int configureThreads(int threads)
{
    if (threads <= 0)
        threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(threads);
    return at::get_num_threads();
}

int parallelThreadsInUse()
{
    const int threads = at::get_num_threads();
    std::atomic<unsigned> seen{0};  // bit t: thread t ran a chunk
    at::parallel_for(0, threads, 1, [&](int64_t, int64_t) {
        seen.fetch_or(1u << (at::get_thread_num() % 32));
    });
    return __builtin_popcount(seen.load());
}

namespace {

// OpenBLAS's own queries, looked up at run time: LibTorch links libblas.so.3, whichever
// implementation the system's alternatives select.
enum class BlasThreads { Unknown, Sequential, Pthreads, OpenMp };

BlasThreads openBlasThreads()
{
    using GetParallel = int (*)();
    const auto get = reinterpret_cast<GetParallel>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
    if (!get)
        return BlasThreads::Unknown;
    switch (get()) {
    case 0:
        return BlasThreads::Sequential;
    case 1:
        return BlasThreads::Pthreads;
    case 2:
        return BlasThreads::OpenMp;
    default:
        return BlasThreads::Unknown;
    }
}

} // namespace

std::string blasDescription()
{
    using GetConfig = const char *(*)();
    const auto config = reinterpret_cast<GetConfig>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
    if (!config)
        return dlsym(RTLD_DEFAULT, "mkl_get_max_threads") ? "MKL" : "not OpenBLAS";
    std::string name = config();
    // "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64": keep the version.
    if (const size_t space = name.find(' ', std::strlen("OpenBLAS ")); space != std::string::npos)
        name.resize(space);
    switch (openBlasThreads()) {
    case BlasThreads::Sequential:
        return name + " (single-threaded)";
    case BlasThreads::Pthreads:
        return name + " (own pthreads)";
    case BlasThreads::OpenMp:
        return name + " (OpenMP)";
    case BlasThreads::Unknown:
        break;
    }
    return name;
}

bool blasRunsItsOwnThreads()
{
    return openBlasThreads() == BlasThreads::Pthreads;
}

} // namespace awq
