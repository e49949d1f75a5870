#include "awq/bench/synthetic_model.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <stdexcept>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/kernels/awq_format.h"
#include "awq/kernels/awq_unpack.h"
#include "awq/nn/linear.h"
#include "awq/nn/reference_model.h"
#include "awq/nn/quant_linear.h"
#include "awq/quant/awq_pack.h"

namespace awq::bench {

using kernels::W4Packing;

const char *variantName(Variant variant)
{
    switch (variant) {
    case Variant::Fp32: return "fp32";
    case Variant::Gemm: return "gemm";
    case Variant::Gemv: return "gemv";
    }
    return "?";
}

const char *variantLabel(Variant variant)
{
    switch (variant) {
    case Variant::Fp32: return "FP32";
    case Variant::Gemm: return "GEMM";
    case Variant::Gemv: return "GEMV";
    }
    return "?";
}

Variant parseVariant(const std::string &name)
{
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    for (Variant v : {Variant::Fp32, Variant::Gemm, Variant::Gemv})
        if (lower == variantName(v))
            return v;
    fail(ErrorCode::InvalidArgument, "unknown variant '", name, "' (known: fp32, gemm, gemv)");
}

std::vector<Variant> parseVariants(const std::string &list)
{
    std::vector<Variant> variants;
    size_t start = 0;
    while (start <= list.size()) {
        const size_t comma = std::min(list.find(',', start), list.size());
        const Variant v = parseVariant(list.substr(start, comma - start));
        if (std::find(variants.begin(), variants.end(), v) == variants.end())
            variants.push_back(v);
        start = comma + 1;
    }
    return variants;
}

namespace {

struct NamedShape {
    const char *name;
    const char *modelType;
    const char *architecture;
    int64_t hidden, layers, intermediate, heads, kvHeads, vocab, maxPositions;
    double ropeTheta;
    // Mixture of experts: experts per layer, top-k, each expert's width; head_dim when it
    // is not hidden / heads.
    int64_t experts = 0, expertsPerToken = 0, expertIntermediate = 0, headDim = 0;
};

// The published config.json values of each model (hidden_size, num_hidden_layers,
// intermediate_size, attention / key-value heads, vocab_size, max_position_embeddings).
const NamedShape kShapes[] = {
    {"tiny", "llama", "LlamaForCausalLM", 256, 2, 768, 8, 4, 1024, 512, 10000.0},
    {"tinyllama-1.1b", "llama", "LlamaForCausalLM", 2048, 22, 5632, 32, 4, 32000, 2048, 10000.0},
    {"llama-2-7b", "llama", "LlamaForCausalLM", 4096, 32, 11008, 32, 32, 32000, 4096, 10000.0},
    {"mistral-7b", "mistral", "MistralForCausalLM", 4096, 32, 14336, 32, 8, 32000, 32768, 1e6},
    // + num_local_experts, num_experts_per_tok (intermediate_size is each expert's width).
    {"mixtral-8x7b", "mixtral", "MixtralForCausalLM", 4096, 32, 14336, 32, 8, 32000, 32768, 1e6, 8, 2, 14336},
    // + num_experts, num_experts_per_tok, moe_intermediate_size, head_dim; every layer sparse.
    {"qwen3-30b-a3b", "qwen3_moe", "Qwen3MoeForCausalLM", 2048, 48, 6144, 32, 4, 151936, 40960, 1e6, 128, 8, 768,
     128},
};

// Shapes whose family needs more than the table's columns: the published config.json as
// is (parsed like a model folder's), weights built in float32.
struct PublishedShape {
    const char *name;
    const char *config;
};
const PublishedShape kPublishedShapes[] = {
    // google/gemma-3-1b-pt: 5 sliding layers (window 512, RoPE base 10k) to 1 global (1M).
    {"gemma3-1b", R"({"architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "hidden_size": 1152,
        "intermediate_size": 6912, "num_hidden_layers": 26, "num_attention_heads": 4, "num_key_value_heads": 1,
        "head_dim": 256, "vocab_size": 262144, "max_position_embeddings": 32768, "rms_norm_eps": 1e-6,
        "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0, "rope_scaling": null, "sliding_window": 512,
        "sliding_window_pattern": 6, "query_pre_attn_scalar": 256, "hidden_activation": "gelu_pytorch_tanh",
        "attn_logit_softcapping": null, "final_logit_softcapping": null, "bos_token_id": 2, "eos_token_id": 1,
        "tie_word_embeddings": true})"},
};

W4Packing packingOf(Variant variant)
{
    AWQ_ASSERT(variant != Variant::Fp32, "fp32 has no packing");
    return variant == Variant::Gemm ? W4Packing::Gemm : W4Packing::Gemv;
}

// (in, out) of the linears of decoder layer `layer` that a quantized build packs (a MoE
// layer's router stays in full precision).
std::vector<std::pair<int64_t, int64_t>> layerLinears(const ModelConfig &c, int64_t layer = 0)
{
    std::vector<std::pair<int64_t, int64_t>> shapes;
    for (const LayerTensor &t : layerTensors(c, layer))
        if (t.linear && !alwaysFullPrecision(t.linearRole))
            shapes.emplace_back(t.inFeatures, t.outFeatures);
    return shapes;
}

// Parameters of layer `layer`'s full-precision linears (routers, shared-expert gates).
uint64_t fullPrecisionParams(const ModelConfig &c, int64_t layer)
{
    uint64_t n = 0;
    for (const LayerTensor &t : layerTensors(c, layer))
        if (t.linear && alwaysFullPrecision(t.linearRole))
            n += static_cast<uint64_t>(t.inFeatures * t.outFeatures);
    return n;
}

uint64_t linearBytes(int64_t in, int64_t out, Variant variant, int64_t groupSize)
{
    const uint64_t k = static_cast<uint64_t>(in), n = static_cast<uint64_t>(out);
    if (variant == Variant::Fp32)
        return 4 * k * n;
    // A checkpoint's group size -1 means one group per output channel.
    const int64_t g = groupSize > 0 ? groupSize : in;
    const uint64_t codes = k * n / 2, groups = k / static_cast<uint64_t>(g);
    if (variant == Variant::Gemm)
        return codes + groups * n * 2 + groups * n / 2;
    // gemvZerosWidth's padding, without its throw for group sizes GEMV cannot hold.
    const uint64_t m = g == 64 ? 2 : g == 32 ? 4 : 1;
    const uint64_t zw = ((groups + 7) / 8 + m - 1) / m * m;
    return codes + n * zw * 8 * 2 + n * zw * 4;
}

at::Tensor randomNormal(at::IntArrayRef shape, at::Generator &gen)
{
    return at::randn(shape, gen, at::kFloat).mul_(0.02);
}

// Float32 values exactly representable in fp16, rounded in place: only an fp16 copy is
// held meanwhile (t.to(kHalf).to(kFloat) held three full tensors at once: on TinyLlama's
// lm_head that was 0.5 GiB above the finished model, the benchmark's peak).
at::Tensor roundedToHalf(at::Tensor t)
{
    t.copy_(t.to(at::kHalf));
    return t;
}

std::unique_ptr<QuantLinear> randomQuant(W4Packing packing, int64_t in, int64_t out, int64_t groupSize,
                                         at::Generator &gen)
{
    // Any 32-bit word holds eight valid 4-bit codes, so codes are drawn as whole words.
    auto words = [&](at::IntArrayRef shape) {
        return at::randint(std::numeric_limits<int32_t>::min(), int64_t(std::numeric_limits<int32_t>::max()) + 1,
                           shape, gen, at::kInt);
    };
    auto scales = [&](int64_t rows, int64_t cols) {
        return at::rand({rows, cols}, gen, at::kFloat).mul_(0.002).add_(0.001).to(at::kHalf);
    };
    const int64_t groups = in / groupSize;
    if (packing == W4Packing::Gemm)
        return std::make_unique<QuantLinear>(packing, in, out, groupSize, words({in, out / 8}),
                                             words({groups, out / 8}), scales(groups, out));
    // GEMV rows are padded to a multiple of 8 (or more) groups; the padding must be zero.
    int64_t zw = 0;
    try {
        zw = kernels::gemvZerosWidth(static_cast<int>(in), static_cast<int>(groupSize));
    } catch (const std::invalid_argument &e) {
        fail(ErrorCode::InvalidArgument, e.what());
    }
    auto zeroCodes = at::randint(0, 16, {out, groups}, gen, at::kByte);
    auto qzeros = at::empty({out, zw}, at::kInt);
    kernels::pack_gemv_zeros(zeroCodes.data_ptr<uint8_t>(), static_cast<int>(in), static_cast<int>(out),
                             static_cast<int>(groupSize), qzeros.data_ptr<int32_t>());
    auto s = at::zeros({out, zw * 8}, at::kHalf);
    s.narrow(1, 0, groups).copy_(scales(out, groups));
    return std::make_unique<QuantLinear>(packing, in, out, groupSize, words({out, in / 8}), qzeros, s);
}

std::unique_ptr<Linear> randomLinear(Variant variant, int64_t in, int64_t out, int64_t groupSize, at::Generator &gen)
{
    if (variant == Variant::Fp32)
        return std::make_unique<DenseLinear>(randomNormal({out, in}, gen));
    return randomQuant(packingOf(variant), in, out, groupSize, gen);
}

} // namespace

const std::vector<std::string> &syntheticShapeNames()
{
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto &s : kShapes)
            out.emplace_back(s.name);
        for (const auto &s : kPublishedShapes)
            out.emplace_back(s.name);
        return out;
    }();
    return names;
}

ModelConfig syntheticConfig(const std::string &shape)
{
    for (const auto &s : kPublishedShapes) {
        if (shape != s.name)
            continue;
        ModelConfig c = ModelConfig::fromJson(nlohmann::json::parse(s.config), "synthetic shape " + shape);
        c.torchDtype = "float32"; // what the synthetic weights are built in
        return c;
    }
    for (const auto &s : kShapes) {
        if (shape != s.name)
            continue;
        ModelConfig c;
        c.modelType = s.modelType;
        c.description = &architectureFor(c.modelType, "synthetic shape " + shape);
        c.architecture = s.architecture;
        c.hiddenSize = s.hidden;
        c.intermediateSize = s.intermediate;
        c.numLayers = s.layers;
        c.numHeads = s.heads;
        c.numKvHeads = s.kvHeads;
        c.headDim = s.headDim > 0 ? s.headDim : s.hidden / s.heads;
        c.moe.numExperts = s.experts;
        c.moe.expertsPerToken = s.expertsPerToken;
        c.moe.expertIntermediateSize = s.expertIntermediate;
        c.moe.normTopKProb = true; // as both models' config.json set it
        c.vocabSize = s.vocab;
        c.maxPositionEmbeddings = s.maxPositions;
        c.rmsNormEps = 1e-5;
        c.ropeTheta = s.ropeTheta;
        c.tieWordEmbeddings = false;
        c.torchDtype = "float32"; // what the synthetic weights are built in
        c.bosTokenId = 1;
        c.eosTokenIds = {2};
        return c;
    }
    std::string known;
    for (const auto &name : syntheticShapeNames())
        known += (known.empty() ? "" : ", ") + name;
    fail(ErrorCode::InvalidArgument, "unknown synthetic shape '", shape, "' (known shapes: ", known, ")");
}

void checkGroupSize(const ModelConfig &config, Variant variant, int64_t groupSize)
{
    if (variant == Variant::Fp32)
        return;
    AWQ_CHECK(groupSize > 0, InvalidArgument, "the group size must be positive, got ", groupSize);
    for (const auto &[in, out] : layerLinears(config)) {
        AWQ_CHECK(in % groupSize == 0, InvalidArgument, "group size ", groupSize, " does not divide in_features ", in,
                  " of this model");
        AWQ_CHECK(in % 8 == 0 && out % 8 == 0, InvalidArgument, "a ", in, " -> ", out,
                  " linear cannot be packed (in and out features must be multiples of 8)");
    }
    AWQ_CHECK(variant != Variant::Gemv || groupSize == 32 || groupSize == 64 || groupSize >= 128, InvalidArgument,
              "the GEMV packing supports group sizes 32, 64 or >= 128, not ", groupSize);
}

uint64_t estimateWeightBytes(const ModelConfig &c, Variant variant, int64_t groupSize)
{
    // Layers differ only between dense and sparse (MoE) ones: size one of each kind.
    uint64_t bytes = 0, sparse = 0, dense = 0;
    for (int64_t i = 0; i < c.numLayers; ++i) {
        uint64_t &layer = c.isMoeLayer(i) ? sparse : dense;
        if (layer == 0) {
            for (const auto &[in, out] : layerLinears(c, i))
                layer += linearBytes(in, out, variant, groupSize);
            layer += 4 * fullPrecisionParams(c, i);
            for (const LayerTensor &t : layerTensors(c, i)) // norms, per-head ones included
                layer += t.linear ? 0 : 4 * static_cast<uint64_t>(t.outFeatures);
        }
        bytes += layer;
    }
    const uint64_t embed = 4 * static_cast<uint64_t>(c.vocabSize * c.hiddenSize);
    const uint64_t norms = 4 * static_cast<uint64_t>(c.hiddenSize); // the final norm
    // The fused decoder keeps an int4 model's (fp16-exact) lm_head in fp16: 2 bytes per weight.
    const uint64_t lmHead = variant == Variant::Fp32 ? (c.tieWordEmbeddings ? 0 : embed) : embed / 2;
    return bytes + embed + lmHead + norms;
}

uint64_t estimateBuildBytes(const ModelConfig &c, Variant variant, int64_t groupSize, bool synthetic)
{
    // One layer's stacked q/k/v and gate/up, twice for int4 (the stack and its huge-page copy).
    const auto part = [&](LinearRole role) {
        const auto [in, out] = linearShape(c, role);
        return linearBytes(in, out, variant, groupSize);
    };
    const std::vector<LinearRole> stackedParts = {LinearRole::Q, LinearRole::K, LinearRole::V, LinearRole::Gate,
                                                  LinearRole::Up};
    uint64_t stacked = 0;
    for (const LinearSlot &slot : c.arch().linears)
        if (std::find(stackedParts.begin(), stackedParts.end(), slot.role) != stackedParts.end())
            stacked += part(slot.role);
    if (variant != Variant::Fp32)
        stacked *= 2;
    const uint64_t vh = static_cast<uint64_t>(c.vocabSize * c.hiddenSize);
    // An untied int4 lm_head: fp32 (4 bytes) until the decoder's fp16 copy (2) replaces it.
    const uint64_t lmHead = c.tieWordEmbeddings ? 0 : variant == Variant::Fp32 ? 0 : 4 * vh;
    // Synthetic embeddings and lm_head: the fp16 copy they are rounded through.
    const uint64_t rounding = synthetic ? 2 * vh : 0;
    // A folder's linears are converted one at a time: the largest, in fp32, plus its packing.
    uint64_t largest = 0;
    for (const auto &[in, out] : layerLinears(c))
        largest = std::max(largest, 2 * 4 * static_cast<uint64_t>(in * out));
    const uint64_t converting = synthetic ? 0 : largest;
    return std::max({stacked + lmHead, rounding, converting});
}

uint64_t estimateKvCacheBytes(const ModelConfig &c, int64_t batch, int64_t maxSeqLen)
{
    return 2 * 4 * static_cast<uint64_t>(c.numLayers * batch * maxSeqLen * c.kvDim());
}

uint64_t estimateActivationBytes(const ModelConfig &c, int64_t batch, int64_t tokens)
{
    const uint64_t rows = static_cast<uint64_t>(batch * tokens);
    const uint64_t qDim = static_cast<uint64_t>(c.numHeads * c.headDim);
    // hidden, normed, attention out, MLP out; q/k/v; attention; gate/up; activation.
    const uint64_t perRow = 4 * static_cast<uint64_t>(c.hiddenSize) + qDim + 2 * static_cast<uint64_t>(c.kvDim())
                            + qDim + 3 * static_cast<uint64_t>(c.intermediateSize)
                            // MoE scratch: router logits, gathered rows, expert outputs, gate/up, activation
                            + static_cast<uint64_t>(c.moe.numExperts + 2 * c.hiddenSize)
                            + 3 * static_cast<uint64_t>(std::max(c.moe.expertIntermediateSize, c.moe.sharedIntermediateSize));
    const uint64_t logits = static_cast<uint64_t>(batch * c.vocabSize);
    return 4 * (rows * perRow + logits);
}

std::unique_ptr<QuantLinear> randomQuantLinear(W4Packing packing, int64_t inFeatures, int64_t outFeatures,
                                               int64_t groupSize, uint64_t seed)
{
    at::Generator gen = at::detail::createCPUGenerator(seed);
    return randomQuant(packing, inFeatures, outFeatures, groupSize, gen);
}

std::unique_ptr<ReferenceModel> buildSyntheticModel(const ModelConfig &c, Variant variant, int64_t groupSize,
                                                uint64_t seed, const ProgressFn &progress, const CancelToken &cancel)
{
    checkGroupSize(c, variant, groupSize);
    at::NoGradGuard noGrad;
    at::Generator gen = at::detail::createCPUGenerator(seed);
    const std::string what = std::string("building a random ") + variantName(variant) + " model";
    std::vector<DecoderLayer> layers;
    layers.reserve(static_cast<size_t>(c.numLayers));
    for (int64_t i = 0; i < c.numLayers; ++i) {
        cancel.throwIfCancelled();
        if (progress)
            progress({"build", i, c.numLayers,
                      what + ": layer " + std::to_string(i + 1) + "/" + std::to_string(c.numLayers)});
        DecoderLayer layer;
        for (const LayerTensor &t : layerTensors(c, i)) {
            if (t.linear && alwaysFullPrecision(t.linearRole)) // the router: float32 in every build
                layer.slot(t.id()) = randomLinear(Variant::Fp32, t.inFeatures, t.outFeatures, groupSize, gen);
            else if (t.linear)
                layer.slot(t.id()) = randomLinear(variant, t.inFeatures, t.outFeatures, groupSize, gen);
            else
                layer.norm(t.normRole) = at::ones({t.outFeatures}, at::kFloat);
        }
        layers.push_back(std::move(layer));
    }
    cancel.throwIfCancelled();
    // Rounded to fp16 values, as in the fp16 checkpoints these shapes stand for (an int4
    // build then streams its lm_head as fp16, as it would for a real AWQ checkpoint).
    at::Tensor embed = roundedToHalf(randomNormal({c.vocabSize, c.hiddenSize}, gen));
    at::Tensor lmHead = c.tieWordEmbeddings ? embed : roundedToHalf(randomNormal({c.vocabSize, c.hiddenSize}, gen));
    if (progress)
        progress({"build", c.numLayers, c.numLayers, what + ": done"});
    return ReferenceModel::fromParts(c, embed, std::move(layers), at::ones({c.hiddenSize}, at::kFloat), lmHead);
}

namespace {

struct ConvertCounts {
    int kept = 0, dequantized = 0, quantized = 0, repacked = 0;
    int64_t quantizedGroup = 0;
};

std::unique_ptr<Linear> convertLinear(std::unique_ptr<Linear> linear, Variant variant, int64_t groupSize,
                                      ConvertCounts &counts)
{
    at::Tensor weight, bias;
    int64_t group = groupSize;
    if (auto *q = dynamic_cast<QuantLinear *>(linear.get())) {
        if (variant == Variant::Fp32) {
            ++counts.dequantized;
            return std::make_unique<DenseLinear>(q->dequantized(), q->bias());
        }
        if (q->packing() == packingOf(variant)) {
            ++counts.kept;
            return linear;
        }
        // The other packing of the same checkpoint: same group size, codes recovered by RTN.
        weight = q->dequantized();
        bias = q->bias();
        group = q->groupSize();
        ++counts.repacked;
    } else if (auto *d = dynamic_cast<DenseLinear *>(linear.get())) {
        if (variant == Variant::Fp32) {
            ++counts.kept;
            if (d->weight().scalar_type() == at::kFloat)
                return linear;
            return std::make_unique<DenseLinear>(d->weight().to(at::kFloat),
                                                 d->bias().defined() ? d->bias().to(at::kFloat) : at::Tensor());
        }
        weight = d->weight().to(at::kFloat);
        bias = d->bias();
        ++counts.quantized;
    } else {
        fail(ErrorCode::Internal, "convertModel: unknown linear kind (", linear->describe(), ")");
    }
    counts.quantizedGroup = group;
    QuantizerSpec spec;
    spec.bits = 4;
    spec.groupSize = group;
    spec.zeroPoint = true;
    PackedLinear p = packLinear(weight, bias, spec, variantName(variant));
    return std::make_unique<QuantLinear>(packingOf(variant), weight.size(1), weight.size(0), group, p.qweight,
                                         p.qzeros, p.scales, p.bias.defined() ? p.bias.to(at::kFloat) : at::Tensor());
}

} // namespace

std::string convertModel(ReferenceModel &model, Variant variant, int64_t groupSize, const ProgressFn &progress,
                         const CancelToken &cancel)
{
    at::NoGradGuard noGrad;
    const ModelConfig &c = model.config();
    ConvertCounts counts;
    for (int64_t i = 0; i < c.numLayers; ++i) {
        cancel.throwIfCancelled();
        if (progress)
            progress({"convert", i, c.numLayers,
                      std::string("preparing the ") + variantName(variant) + " build: layer " + std::to_string(i + 1)
                          + "/" + std::to_string(c.numLayers)});
        DecoderLayer &layer = model.layer(i);
        for (const LayerTensor &t : layerTensors(c, i))
            if (t.linear && !alwaysFullPrecision(t.linearRole)) // routers stay as loaded
                if (std::unique_ptr<Linear> &slot = layer.slot(t.id()))
                    slot = convertLinear(std::move(slot), variant, groupSize, counts);
    }
    std::string note;
    auto add = [&](int count, const std::string &text) {
        if (count > 0)
            note += (note.empty() ? "" : "; ") + std::to_string(count) + " linears " + text;
    };
    const std::string packing = variant == Variant::Fp32 ? "" : variantName(variant);
    const std::string rtn = "quantized round-to-nearest (4-bit, group " + std::to_string(counts.quantizedGroup)
                            + ", zero point, " + packing + " packing)";
    add(counts.kept, variant == Variant::Fp32 ? "fp32 as loaded" : "int4 " + packing + " as stored in the checkpoint");
    add(counts.dequantized, "dequantized from the checkpoint's int4 weights to fp32");
    add(counts.quantized, rtn + " at load from the full-precision weights: for speed only, not an AWQ search");
    add(counts.repacked, "re-" + rtn + " from the checkpoint's dequantized weights: for speed only");
    return note;
}

} // namespace awq::bench
