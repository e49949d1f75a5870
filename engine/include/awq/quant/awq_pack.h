#pragma once
// The final step of AWQ for one linear (docs/awq-format.md §1.9, §2): cast to fp16, quantize with
// fp16 arithmetic, and pack the integer codes, zeros and scales into the GEMM or GEMV
// tensors that AutoAWQ, transformers and vLLM load.

#include <string>

#include <ATen/Tensor.h>

#include "awq/quant/quant_options.h"

namespace awq {

struct PackedLinear {
    at::Tensor qweight;     // int32: GEMM [K, N/8]; GEMV [N, K/8]
    at::Tensor qzeros;      // int32: GEMM [K/g, N/8]; GEMV [N, ZW]
    at::Tensor scales;      // fp16:  GEMM [K/g, N]; GEMV [N, ZW*8]
    at::Tensor bias;        // fp16 [N], or undefined
    at::Tensor dequantized; // float32 [N, K]: what a loader reconstructs (fp16-exact values)
};

// weight: float32 [N, K]; spec must be 4-bit with zero point; version "gemm" | "gemv".
// Throws Error(InvalidArgument) for an unsupported combination or shape.
PackedLinear packLinear(const at::Tensor &weight, const at::Tensor &bias, const QuantizerSpec &spec,
                        const std::string &version);

} // namespace awq
