#pragma once
// How much memory a model needs, from its config alone: to quantize it on the CPU, and to
// run it in full precision or in 4 bits on the CPU (the fused decoder) and on a GPU. The
// wizard's Model page shows these before anything is loaded. Torch-free.
//
// Running figures are the weights as each engine keeps them plus a KV cache for `context`
// tokens at batch 1 plus activations, plus the process baseline. The quantization figure
// is a fit to measured peaks (docs/benchmarks.md, "Quantization time and memory"): the
// baseline, the layer being searched held four times (weights, their scaled copy, and
// room the TinyLlama peak needed once BLAS ran on OpenMP threads: +0.35 GiB, cause not
// isolated), the captured calibration activations (about 5 x hidden + 4 x intermediate
// floats per token) and the attention scores of one slice. Measured with OpenBLAS's OpenMP
// build: demo model 637 MiB (estimate 634), TinyLlama-1.1B 3.43 GiB (estimate 3.33).

#include <cstdint>

#include "awq/model/config.h"

namespace awq {

// Tokens the built-in calibration set yields with the defaults (128 records, blocks of
// 512 or the model's context): 36 x 512 = 18,432 with Llama's tokenizer, 70 x 256 with the
// demo model's.
inline constexpr int64_t kTypicalCalibrationTokens = 18432;
// Resident memory of an AWQ Studio process with LibTorch loaded, before any model.
inline constexpr uint64_t kProcessBaselineBytes = 185ull << 20;

struct MemoryEstimate {
    uint64_t quantizeCpu = 0; // peak while quantizing (one decoder layer at a time)
    uint64_t fp32Cpu = 0;     // fused CPU decoder, float32 weights
    uint64_t int4Cpu = 0;     // fused CPU decoder, int4 (GEMV packing) + fp16 lm_head
    uint64_t fp16Gpu = 0;     // device memory: fp16 weights, fp16 KV cache
    uint64_t int4Gpu = 0;     // device memory: int4 linears, fp16 embeddings and KV cache
    int64_t calibrationTokens = 0;
    int64_t context = 0;
};

// groupSize: of the int4 builds (128 when unsure). calibrationTokens: what the calibration
// data yields (kTypicalCalibrationTokens before it is chosen). context: KV-cache tokens
// (0: min(2048, max_position_embeddings)).
MemoryEstimate estimateMemory(const ModelConfig &config, int64_t groupSize = 128,
                              int64_t calibrationTokens = kTypicalCalibrationTokens, int64_t context = 0);

} // namespace awq
