#pragma once
// How much memory a model needs, from its config alone: to quantize it on the CPU, and to
// run it in full precision or in 4 bits on the CPU (the fused decoder) and on a GPU. The
// wizard's Model page shows these before anything is loaded. Torch-free.
//
// Running figures are the weights as each engine keeps them plus a KV cache for `context`
// tokens at batch 1 plus activations, plus the process baseline. The quantization figure
// is an upper bound of the process's peak resident set while it quantizes: what the
// process holds when asked (at least the baseline: a GUI holding Qt and a chat model holds
// more, and keeps it while quantizing), 32 MiB for the run itself, plus, with a 15 % margin,
// the layer being searched
// held four times (weights, their scaled copy, and room the TinyLlama peak needed once BLAS
// ran on OpenMP threads: +0.35 GiB, cause not isolated), the captured calibration
// activations (about 5 x hidden + 4 x intermediate floats per token) and the attention
// scores of one slice. Measured peaks (docs/benchmarks.md, "Quantization time and memory"):
// demo model 637 MiB, TinyLlama-1.1B 3.43 GiB from the command line.

#include <cstdint>

#include "awq/model/config.h"

namespace awq {

// Tokens the built-in calibration set yields with the defaults (128 records, blocks of
// 512 or the model's context): 36 x 512 = 18,432 with Llama's tokenizer, 70 x 256 with the
// demo model's.
inline constexpr int64_t kTypicalCalibrationTokens = 18432;
// Resident memory of an AWQ Studio process with LibTorch loaded, before any model.
inline constexpr uint64_t kProcessBaselineBytes = 185ull << 20;
// The margin on the model-dependent part of the quantization figure.
inline constexpr double kQuantizeMargin = 1.15;
// What a quantization run allocates besides the model-dependent terms, whatever the model
// (its tokenizer, the calibration text and blocks, the threads' allocator arenas).
inline constexpr uint64_t kQuantizeRunBytes = 32ull << 20;

struct MemoryEstimate {
    uint64_t quantizeCpu = 0; // peak while quantizing (one decoder layer at a time)
    uint64_t fp32Cpu = 0;     // fused CPU decoder, float32 weights
    uint64_t int4Cpu = 0;     // fused CPU decoder, int4 (GEMV packing) + fp16 lm_head
    uint64_t fp16Gpu = 0;     // device memory: fp16 weights, fp16 KV cache
    uint64_t int4Gpu = 0;     // device memory: int4 linears, fp16 embeddings and KV cache
    int64_t calibrationTokens = 0;
    int64_t context = 0;
    uint64_t processBytes = 0; // the process's own share of quantizeCpu
};

// groupSize: of the int4 builds (128 when unsure). calibrationTokens: what the calibration
// data yields (kTypicalCalibrationTokens before it is chosen). context: KV-cache tokens
// (0: min(2048, max_position_embeddings)). processBytes: what the process that will quantize
// holds besides (0: this process's resident set now, at least kProcessBaselineBytes).
MemoryEstimate estimateMemory(const ModelConfig &config, int64_t groupSize = 128,
                              int64_t calibrationTokens = kTypicalCalibrationTokens, int64_t context = 0,
                              uint64_t processBytes = 0);

} // namespace awq
