#include "awq/model/memory_estimate.h"

#include <algorithm>

#include "awq/bench/synthetic_model.h"
#include "awq/core/memory.h"

namespace awq {

namespace {

uint64_t u(int64_t v)
{
    return static_cast<uint64_t>(std::max<int64_t>(0, v));
}

// Parameters of one decoder layer's linears (the largest layer: a MoE layer holds every
// expert's).
uint64_t layerLinearParams(const ModelConfig &c)
{
    const uint64_t h = u(c.hiddenSize), kv = u(c.kvDim()), q = u(c.numHeads * c.headDim), i = u(c.intermediateSize);
    const uint64_t dense = h * q + 2 * h * kv + q * h + 3 * h * i;
    if (c.moe.numExperts == 0)
        return dense;
    const uint64_t experts = 3 * h * (u(c.moe.numExperts) * u(c.moe.expertIntermediateSize) + u(c.moe.sharedIntermediateSize))
                             + h * u(c.moe.numExperts + 1);
    return std::max(dense, h * q + 2 * h * kv + q * h + experts);
}

// MoE: what the capture adds to the dense terms: each token's copy for each of its k
// experts (the expert's input and its activations), the shared expert's activations.
uint64_t expertActivationBytes(const ModelConfig &c, int64_t tokens)
{
    if (c.moe.numExperts == 0)
        return 0;
    return 4 * u(tokens)
           * (u(c.moe.expertsPerToken) * (u(c.hiddenSize) + 2 * u(c.moe.expertIntermediateSize))
              + 2 * u(c.moe.sharedIntermediateSize));
}

} // namespace

MemoryEstimate estimateMemory(const ModelConfig &c, int64_t groupSize, int64_t calibrationTokens, int64_t context,
                              uint64_t processBytes)
{
    MemoryEstimate e;
    e.processBytes = processBytes > 0 ? processBytes : std::max(kProcessBaselineBytes, currentRssBytes());
    e.calibrationTokens = calibrationTokens;
    e.context = context > 0 ? context : std::min<int64_t>(2048, c.maxPositionEmbeddings);
    const int64_t group = groupSize > 0 ? groupSize : 128;

    // Quantizing: see the header for where the terms come from.
    const uint64_t layerWeights = 4 * layerLinearParams(c);
    const uint64_t activations = 4 * u(calibrationTokens) * (5 * u(c.hiddenSize) + 4 * u(c.intermediateSize))
                                 + expertActivationBytes(c, calibrationTokens);
    const int64_t seqLen = std::min<int64_t>(512, c.maxPositionEmbeddings);
    const int64_t blocks = seqLen > 0 ? (calibrationTokens + seqLen - 1) / seqLen : 0;
    const uint64_t scores = std::min<uint64_t>(256ull << 20, 4 * u(blocks) * u(c.numHeads) * u(seqLen) * u(seqLen));
    const uint64_t embedFp32 = 4 * u(c.vocabSize) * u(c.hiddenSize);
    const uint64_t working = std::max(4 * layerWeights + activations + scores, embedFp32 + activations);
    e.quantizeCpu =
        e.processBytes + kQuantizeRunBytes + static_cast<uint64_t>(kQuantizeMargin * static_cast<double>(working));

    // Running on the CPU: the fused decoder's own accounting (what `awq bench` reports), in a
    // process of its own (compared with the memory available, which excludes this one).
    const uint64_t kvFp32 = bench::estimateKvCacheBytes(c, 1, e.context);
    const uint64_t act = bench::estimateActivationBytes(c, 1, std::min<int64_t>(512, e.context));
    e.fp32Cpu = kProcessBaselineBytes + bench::estimateWeightBytes(c, bench::Variant::Fp32, group) + kvFp32 + act;
    e.int4Cpu = kProcessBaselineBytes + bench::estimateWeightBytes(c, bench::Variant::Gemv, group) + kvFp32 + act;

    // On a GPU everything is fp16: half the fp32 figures, int4 linears as packed.
    const uint64_t embedFp16 = embedFp32 / 2;
    const uint64_t lmHeadFp16 = c.tieWordEmbeddings ? 0 : embedFp16;
    const uint64_t linearsFp16 = 2 * layerLinearParams(c) * u(c.numLayers);
    // int4 codes + fp16 scales + int4 zeros per group.
    const uint64_t linearsInt4 = layerLinearParams(c) * u(c.numLayers) / 2
                                 + layerLinearParams(c) * u(c.numLayers) / u(group) * (2 + 1);
    const uint64_t norms = 2 * u((2 * c.numLayers + 1) * c.hiddenSize);
    e.fp16Gpu = linearsFp16 + embedFp16 + lmHeadFp16 + norms + kvFp32 / 2 + act / 2;
    e.int4Gpu = linearsInt4 + embedFp16 + lmHeadFp16 + norms + kvFp32 / 2 + act / 2;
    return e;
}

} // namespace awq
