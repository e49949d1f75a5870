#pragma once
// Reference dequantization of an AWQ-packed linear (GEMM or GEMV packing, docs/awq-format.md §2)
// into a float32 nn.Linear weight [out, in]. Used to load quantized checkpoints on
// the unfused path and as the oracle for the int4 kernels.

#include <string>

#include <ATen/Tensor.h>

#include "awq/kernels/w4_linear.h"
#include "awq/model/config.h"

namespace awq {

class WeightStore;

// The packed tensors of one AWQ linear, checked (dtype, shape) against the packing in
// `quant` and config.json; views into the store's memory-mapped files (clone() to keep).
struct AwqTensors {
    kernels::W4Packing packing = kernels::W4Packing::Gemm;
    int64_t groupSize = 0;
    at::Tensor qweight, qzeros, scales;
};
// Throws Error(UnsupportedModel) for quantization configs other than 4-bit AWQ with zero
// points (GEMM or GEMV) and Error(Format) naming the tensor and file on a mismatch.
AwqTensors readAwqTensors(const WeightStore &store, const std::string &prefix, int64_t inFeatures,
                          int64_t outFeatures, const QuantizationConfig &quant);

// Reads `prefix`.qweight / .qzeros / .scales, checks dtypes and shapes against the
// packing in `quant` (throws Error(Format) naming the tensor and file), and returns
// the dequantized weight [outFeatures, inFeatures] (float32).
at::Tensor dequantizeAwqLinear(const WeightStore &store, const std::string &prefix, int64_t inFeatures,
                               int64_t outFeatures, const QuantizationConfig &quant);

} // namespace awq
