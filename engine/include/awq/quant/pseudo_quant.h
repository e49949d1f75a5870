#pragma once
// The group quantizer of docs/awq-format.md §1.8 (AutoAWQ pseudo_quantize_tensor), on float32
// tensors. Rounding is half-to-even (at::round). Two precisions:
//  - Float32: every step in float32, used inside the searches (the model runs in fp32 on CPU);
//  - Fp16: each elementwise step rounded to fp16, as AutoAWQ's final pass does on a GPU
//    after casting the linear to fp16 (compute in fp32, round each op's result), so the
//    codes, scales and zeros written to disk are the ones AutoAWQ would write.

#include <cstdint>

#include <ATen/Tensor.h>

#include "awq/quant/quant_options.h"

namespace awq {

enum class QuantPrecision { Float32, Fp16 };

struct PseudoQuantResult {
    at::Tensor dequantized; // float32, the input's shape
    at::Tensor scales;      // float32 [rows, K/g] (fp16-exact values in Fp16 mode)
    at::Tensor zeros;       // float32 [rows, K/g] integer values; undefined when symmetric
    at::Tensor codes;       // uint8 [rows, K] 0..2^b-1 (symmetric: q + 2^(b-1)); only if requested
};

// w: [rows, K] float32 (any contiguous layout); K % g == 0. Throws Error(InvalidArgument)
// for a bad shape or group size and Error(Format) when w holds NaN.
PseudoQuantResult pseudoQuantize(const at::Tensor &w, const QuantizerSpec &spec,
                                 QuantPrecision precision = QuantPrecision::Float32, bool wantCodes = false);

// Just the dequantized weight (the inner loop of the searches).
at::Tensor fakeQuantize(const at::Tensor &w, const QuantizerSpec &spec);

} // namespace awq
