#pragma once
// The host-side plan of the CUDA decoder (awq/nn/cuda_decoder.h), in plain C++: no CUDA and
// no LibTorch, so that every decision it makes is tested on machines without a GPU
// (tests/engine/tst_cuda_plan.cpp) and the UI can show the memory a model needs on a GPU.
//
// What it decides:
// - which kernel runs each linear for a given number of activation rows: fp16 weights go
//   to cuBLAS; int4 weights go to the decode kernel of their packing (GEMV packing: the
//   GEMV kernel; GEMM packing: its split-K decode kernel) in calls of up to 8 rows while the
//   rows are few, and are dequantized to fp16 in a scratch buffer and multiplied by cuBLAS
//   beyond that (prefill);
// - the bytes of every device allocation: weights as held, the fp16 KV cache, the
//   activation buffers of a forward over `rows` positions, and the workspace (split-K
//   partial sums, the dequantized weight of the largest linear);
// - whether the kernels can take a linear's shape at all (GEMV group sizes, alignment).

#include <cstdint>
#include <string>
#include <vector>

#include "awq/model/config.h"

namespace awq::cuda {

// How a linear's weight is held on the device.
enum class WeightFormat : uint8_t {
    Half,     // fp16 [out, in] (full-precision checkpoints, the lm_head)
    Int4Gemm, // AutoAWQ GEMM packing as stored (docs/awq-format.md §2.1)
    Int4Gemv  // AutoAWQ GEMV packing as stored (§2.2)
};
const char *formatName(WeightFormat format); // "fp16" | "int4 gemm" | "int4 gemv"

struct LinearSpec {
    WeightFormat format = WeightFormat::Half;
    int64_t in = 0, out = 0;
    int64_t group = 0; // int4 only
    bool bias = false; // fp16 bias [out], added after the product
};

// Which kernel runs a linear.
enum class LinearPath : uint8_t {
    Cublas,       // fp16 weight x fp16 activations, fp32 accumulation (cublasGemmEx)
    GemvDecode,   // awq_gemv_forward_cuda, chunks of up to 8 rows
    GemmDecode,   // awq_gemm_gemv_forward_cuda, chunks of up to 8 rows
    DequantCublas // awq_dequantize_{gemm,gemv}_cuda into the scratch weight, then cuBLAS
};
const char *pathName(LinearPath path); // "cublas" | "gemv-decode" | "gemm-decode" | "dequant+cublas"

inline constexpr int64_t kDecodeKernelRowsPerCall = 8;
// Up to this many rows the int4 decode kernels run (in calls of 8: reading the packed weight
// twice at 16 rows still reads half the bytes of its fp16 copy); more rows dequantize.
inline constexpr int64_t kDecodeKernelRowLimit = 16;

struct LinearLaunch {
    LinearPath path = LinearPath::Cublas;
    int64_t calls = 1;            // kernel calls (decode kernels: ceil(rows / 8))
    int64_t rowsPerCall = 0;      // rows of every call but the last
    uint64_t workspaceBytes = 0;  // device scratch the launch needs (split-K partials or the fp16 weight)
    std::string describe() const; // "gemm-decode, 2 calls of 8 rows, 1.0 MiB workspace"
};

// Throws Error(UnsupportedModel) naming `name` when the kernels cannot take this linear:
// a non-positive size, int4 with in % group != 0, GEMM with out % 8 != 0, GEMV with in % 8
// != 0 or a group size other than 32, 64 or >= 128.
void checkLinear(const LinearSpec &linear, const std::string &name);
// The launch for `rows` activation rows (rows >= 1; checkLinear first).
LinearLaunch planLinear(const LinearSpec &linear, int64_t rows);
// Device bytes of the weight (codes, zeros, scales, padding as stored) and bias.
uint64_t weightBytes(const LinearSpec &linear);

// The four linears of a layer as the decoder runs them: q/k/v and gate/up stacked.
struct LayerLinears {
    LinearSpec qkv, o, gateUp, down;
    std::vector<const LinearSpec *> all() const { return {&qkv, &o, &gateUp, &down}; }
};
// The linears a config implies in one format (estimates; a loaded model reports its own).
LayerLinears layerLinears(const ModelConfig &config, WeightFormat format, int64_t group);
// The format a checkpoint's linears load as: Half without quantization_config, else its packing.
WeightFormat checkpointFormat(const ModelConfig &config);

// Activation buffers of one forward over `rows` = batch x tokens positions.
struct ActivationBytes {
    uint64_t hidden = 0;  // fp32 residual stream [rows, hidden]
    uint64_t normed = 0;  // fp16 [rows, hidden]
    uint64_t qkv = 0;     // fp16 [rows, (heads + 2 kvHeads) * headDim]
    uint64_t attn = 0;    // fp16 [rows, heads * headDim]
    uint64_t attnOut = 0; // fp16 [rows, hidden] (o_proj and down_proj outputs)
    uint64_t gateUp = 0;  // fp16 [rows, 2 * intermediate]
    uint64_t act = 0;     // fp16 [rows, intermediate]
    uint64_t ids = 0;     // int32 [rows]
    uint64_t logits = 0;  // fp32 [logitRows, vocab] + the fp16 normed rows feeding the lm_head
    uint64_t total() const { return hidden + normed + qkv + attn + attnOut + gateUp + act + ids + logits; }
};
// logitRows: rows whose logits are computed (batch for prefill, rows for score).
ActivationBytes activationBytes(const ModelConfig &config, int64_t rows, int64_t logitRows);

// fp16 keys and values of every layer for batch x maxSeqLen positions.
uint64_t kvCacheBytes(const ModelConfig &config, int64_t batch, int64_t maxSeqLen);
// The workspace a forward over `rows` rows needs: the largest launch's.
uint64_t workspaceBytes(const std::vector<LayerLinears> &layers, int64_t rows);
// Embeddings, lm_head (unless tied), norms, RoPE tables and every layer's linears.
uint64_t modelWeightBytes(const ModelConfig &config, const std::vector<LayerLinears> &layers, int64_t maxSeqLen);

// What a CUDA decoder of `config` needs on its device for batch sequences of maxSeqLen
// positions whose longest forward runs prefillRows rows.
struct MemoryEstimate {
    uint64_t weights = 0, kvCache = 0, activations = 0, workspace = 0;
    uint64_t total() const { return weights + kvCache + activations + workspace; }
};
MemoryEstimate estimateMemory(const ModelConfig &config, WeightFormat format, int64_t group, int64_t batch,
                              int64_t maxSeqLen, int64_t prefillRows);
MemoryEstimate estimateMemory(const ModelConfig &config, const std::vector<LayerLinears> &layers, int64_t batch,
                              int64_t maxSeqLen, int64_t prefillRows);

// "cuda:N" -> N; throws Error(Device) for anything else.
int parseCudaDevice(const std::string &device);

} // namespace awq::cuda
