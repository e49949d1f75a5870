#include "huge_pages.h"

#include <cstddef>
#include <cstdlib>

#include <ATen/ATen.h>
#include <sys/mman.h>

namespace awq {

// The decode kernels stream whole matrices per token; the GEMM packing's kernel walks K rows
// of a 64-byte column block with a stride of N/2 bytes: with 4 KiB pages nearly every load
// is a TLB miss. Huge pages measured +5-15 % for the GEMV packing too (docs/benchmarks.md).
at::Tensor hugePageCopy(const at::Tensor &t)
{
    constexpr size_t kHuge = size_t{2} << 20;
    const size_t bytes = t.nbytes();
    if (bytes < kHuge)
        return t.contiguous();
    const size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
    void *p = std::aligned_alloc(kHuge, rounded);
    if (!p)
        return t.contiguous();
    madvise(p, rounded, MADV_HUGEPAGE); // advice only: without THP this is an ordinary buffer
    auto out = at::from_blob(p, t.sizes(), [](void *q) { std::free(q); }, t.options());
    out.copy_(t);
    return out;
}

} // namespace awq
