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

// The BLAS LibTorch loaded and how it threads, e.g. "OpenBLAS 0.3.21 (OpenMP)".
std::string blasDescription();
// True for a BLAS known to keep a thread pool of its own (OpenBLAS's pthreads build), which
// competes with the engine's OpenMP threads for the cores; benchmarks warn about it. False
// for OpenBLAS's OpenMP or single-threaded builds and for a BLAS it cannot query (MKL inside
// PyTorch's LibTorch runs on OpenMP).
bool blasRunsItsOwnThreads();

} // namespace awq
