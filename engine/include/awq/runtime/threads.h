#pragma once
// LibTorch's intra-op thread count defaults to 1 on Debian's build; every program
// calls configureThreads() once at start-up.

#include <string>

namespace awq {

// Sets LibTorch's intra-op threads to `threads`, or to the number of cores when 0.
// Returns the count in effect.
int configureThreads(int threads = 0);

// How many threads an at::parallel_for of the engine actually runs on now (it runs a small
// one and counts): 1 when the engine was built without OpenMP, whatever configureThreads
// set. Benchmarks report it; a test checks that it follows configureThreads.
int parallelThreadsInUse();

// The BLAS LibTorch loaded and how it threads, e.g. "OpenBLAS 0.3.21 (OpenMP)". A BLAS with
// its own thread pool (OpenBLAS's pthreads build) competes with the engine's OpenMP threads
// for the cores: blasSharesOpenMpThreads() is false then, and benchmarks say so.
std::string blasDescription();
bool blasSharesOpenMpThreads();

} // namespace awq
