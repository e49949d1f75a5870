#pragma once
// LibTorch's intra-op thread count defaults to 1 on Debian's build; every program
// calls configureThreads() once at start-up.

namespace awq {

// Sets LibTorch's intra-op threads to `threads`, or to the number of cores when 0.
// Returns the count in effect.
int configureThreads(int threads = 0);

} // namespace awq
