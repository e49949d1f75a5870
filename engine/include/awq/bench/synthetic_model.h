#pragma once
// Models for the benchmark: the three builds it compares (FP32, int4 GEMM packing, int4
// GEMV packing), synthetic models of well-known shapes with random weights (no file
// needed: the int4 tensors are generated already packed), the conversion of a loaded
// model into another build, and the memory each build needs.
//
// Speed does not depend on weight values, so random codes measure what real ones would;
// the outputs of such a model are meaningless. Not thread-safe; one thread builds.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "awq/core/cancel.h"
#include "awq/core/progress.h"
#include "awq/kernels/w4_linear.h"
#include "awq/model/config.h"

namespace awq {
class ReferenceModel;
class QuantLinear;
} // namespace awq

namespace awq::bench {

enum class Variant { Fp32, Gemm, Gemv };

const char *variantName(Variant variant);  // "fp32" | "gemm" | "gemv" (options, JSON)
const char *variantLabel(Variant variant); // "FP32" | "GEMM" | "GEMV" (AutoAWQ's Version column)
// "fp32" | "gemm" | "gemv" (any case); throws Error(InvalidArgument) listing the names.
Variant parseVariant(const std::string &name);
// A comma-separated list ("fp32,gemv"); duplicates are dropped, order kept.
std::vector<Variant> parseVariants(const std::string &list);

// Named shapes: "tiny" (for tests), "tinyllama-1.1b", "llama-2-7b", "mistral-7b", "gemma3-1b".
const std::vector<std::string> &syntheticShapeNames();
// The config.json a model of that shape would have. Throws Error(InvalidArgument)
// naming the unknown shape and the known ones.
ModelConfig syntheticConfig(const std::string &shape);

// Bytes of weights a build holds in memory: linears (fp32, or int4 codes + fp16 scales +
// int4 zeros in the given packing), fp32 embeddings, lm_head (unless tied) and norms.
uint64_t estimateWeightBytes(const ModelConfig &config, Variant variant, int64_t groupSize);
// Bytes held above the finished build's weights while it is made (before any KV cache or
// activation exists): the fused decoder stacks a layer's q/k/v and gate/up (a copy, and for
// int4 a second one into huge pages) before it frees the parts; an int4 build's lm_head is
// fp32 until the decoder keeps it in fp16; a synthetic lm_head is rounded to fp16 values
// through an fp16 copy; a folder is loaded before it is converted one linear at a time.
uint64_t estimateBuildBytes(const ModelConfig &config, Variant variant, int64_t groupSize, bool synthetic);
// Bytes of the fp32 KV cache for `batch` sequences of `maxSeqLen` positions.
uint64_t estimateKvCacheBytes(const ModelConfig &config, int64_t batch, int64_t maxSeqLen);
// The fused decoder's activation buffers for one forward over batch x tokens positions
// (hidden states, q/k/v, attention output, MLP) and the logits. Its prefill attention works
// row by row, so there is no [tokens x tokens] term. For refusing a plan, not for reporting.
uint64_t estimateActivationBytes(const ModelConfig &config, int64_t batch, int64_t tokens);

// Checks that the variant's packing can hold this shape with groupSize (it divides every
// in_features, GEMV's group sizes); nothing to check for fp32. Throws Error(InvalidArgument).
void checkGroupSize(const ModelConfig &config, Variant variant, int64_t groupSize);

// A QuantLinear with random packed codes and zero points (every 32-bit word is eight
// valid 4-bit codes, so the words are drawn directly) and random fp16 scales in
// [0.001, 0.003]; GEMV padding columns are zero as the format requires.
std::unique_ptr<QuantLinear> randomQuantLinear(kernels::W4Packing packing, int64_t inFeatures, int64_t outFeatures,
                                               int64_t groupSize, uint64_t seed);

// A model of `config` with random weights: linears fp32 N(0, 0.02²) or random int4 in the
// variant's packing, fp32 N(0, 0.02²) embeddings and lm_head, norms of ones.
// Progress per layer; the cancel token is polled between layers.
std::unique_ptr<ReferenceModel> buildSyntheticModel(const ModelConfig &config, Variant variant, int64_t groupSize,
                                                uint64_t seed, const ProgressFn &progress = {},
                                                const CancelToken &cancel = {});

// Turns every decoder linear of a loaded model into the variant's build, in place:
// fp32 keeps dense linears and dequantizes int4 ones; gemm/gemv keep int4 linears of that
// packing and quantize the others round-to-nearest (4-bit, zero point, `groupSize`) from
// their fp32 weights. Returns a sentence saying what was done, for the report.
std::string convertModel(ReferenceModel &model, Variant variant, int64_t groupSize, const ProgressFn &progress = {},
                         const CancelToken &cancel = {});

} // namespace awq::bench
