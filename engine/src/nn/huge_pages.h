#pragma once
// Engine-internal: weight copies backed by transparent huge pages (used by QuantLinear and
// Int8Linear for the matrices the decode kernels stream).

#include <ATen/Tensor.h>

namespace awq {

// A contiguous copy of t in memory backed by transparent huge pages where the kernel
// allows it (THP "madvise" mode, Debian's default); a plain contiguous copy for tensors
// under 2 MiB or when the allocation fails.
at::Tensor hugePageCopy(const at::Tensor &t);

} // namespace awq
