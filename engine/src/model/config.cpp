#include "awq/model/config.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/io/json_file.h"
#include "config_fields.h"

namespace awq {

using nlohmann::json;

Activation parseActivation(const std::string &name, const std::string &source, const char *key)
{
    if (name == "silu" || name == "swish")
        return Activation::Silu;
    if (name == "gelu_pytorch_tanh")
        return Activation::GeluTanh;
    fail(ErrorCode::UnsupportedModel, source, ": ", key, " '", name,
         "' is not supported (silu, swish or gelu_pytorch_tanh)");
}

const Architecture &ModelConfig::arch() const
{
    return description ? *description : architectureFor(modelType, "model config");
}

namespace {

constexpr int64_t kMaxDim = kMaxConfigDim;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxVocab = int64_t(1) << 22;   // 4M tokens
constexpr int64_t kMaxPositions = kMaxConfigPositions;

RopeScaling parseRopeScaling(const json &j, const std::string &source)
{
    RopeScaling scaling;
    if (j.is_null())
        return scaling;
    AWQ_CHECK(j.is_object(), Format, source, ": 'rope_scaling' must be an object or null");
    ConfigFields f(j, source + " (rope_scaling)");
    std::string type = f.stringOr("rope_type", f.stringOr("type", ""));
    if (type == "default" || type.empty())
        return scaling;
    scaling.factor = f.numberOr("factor", 1.0, 1e-6, 1e6);
    if (type == "linear") {
        scaling.type = RopeScaling::Type::Linear;
    } else if (type == "llama3") {
        scaling.type = RopeScaling::Type::Llama3;
        scaling.lowFreqFactor = f.numberOr("low_freq_factor", 1.0, 1e-6, 1e6);
        scaling.highFreqFactor = f.numberOr("high_freq_factor", 4.0, 1e-6, 1e6);
        scaling.originalMaxPositionEmbeddings = f.integerOr("original_max_position_embeddings", 8192, 1, kMaxPositions);
        AWQ_CHECK(scaling.highFreqFactor > scaling.lowFreqFactor, Format, source,
                  ": rope_scaling high_freq_factor must exceed low_freq_factor");
    } else {
        fail(ErrorCode::UnsupportedModel, source, ": rope_scaling type '", type,
             "' is not supported (supported: linear, llama3)");
    }
    return scaling;
}

QuantizationConfig parseQuantization(const json &j, const std::string &source)
{
    QuantizationConfig q;
    AWQ_CHECK(j.is_object(), Format, source, ": 'quantization_config' must be an object");
    const std::string where = source + " (quantization_config)";
    ConfigFields f(j, where);
    q.present = true;
    q.quantMethod = f.stringOr("quant_method", "awq");
    q.bits = static_cast<int>(f.integerOr("bits", f.integerOr("w_bit", 4, 1, 16), 1, 16));
    q.groupSize = static_cast<int>(f.integerOr("group_size", f.integerOr("q_group_size", 128, -1, kMaxDim), -1, kMaxDim));
    q.zeroPoint = f.boolOr("zero_point", true);
    q.version = f.stringOr("version", "gemm");
    for (auto &c : q.version)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (j.contains("modules_to_not_convert") && !j.at("modules_to_not_convert").is_null()) {
        const json &m = j.at("modules_to_not_convert");
        AWQ_CHECK(m.is_array(), Format, where, ": 'modules_to_not_convert' must be a list of strings");
        for (const auto &item : m) {
            AWQ_CHECK(item.is_string(), Format, where, ": 'modules_to_not_convert' must be a list of strings");
            q.modulesToNotConvert.push_back(item.get<std::string>());
        }
    }
    return q;
}

// Each size is within its own range, but together they may still describe an impossible
// model: refuse before anything is allocated from them, and keep parameterCount() and the
// memory estimates free of int64 overflow.
constexpr double kMaxParameters = 2e12;

void checkTotalSize(const ModelConfig &c, const std::string &source)
{
    const double hidden = static_cast<double>(c.hiddenSize), qOut = double(c.numHeads) * double(c.headDim);
    const double kv = double(c.numKvHeads) * double(c.headDim);
    const double experts = double(c.moe.numExperts) * double(c.moe.expertIntermediateSize)
                           + double(c.moe.sharedIntermediateSize);
    const double perLayer =
        hidden * (2 * qOut + 2 * kv) + 3 * hidden * (double(c.intermediateSize) + experts) + 2 * hidden;
    const double total = 2 * double(c.vocabSize) * hidden + double(c.numLayers) * perLayer;
    AWQ_CHECK(qOut <= double(kMaxDim) * 64, Format, source, ": num_attention_heads (", c.numHeads,
              ") x head_dim (", c.headDim, ") is implausibly large");
    AWQ_CHECK(total <= kMaxParameters, Format, source, ": hidden_size ", c.hiddenSize, ", intermediate_size ",
              c.intermediateSize, ", num_hidden_layers ", c.numLayers, " and vocab_size ", c.vocabSize, " describe ",
              total, " parameters, more than the ", kMaxParameters, " this engine accepts");
}

} // namespace

namespace {

// The decoder's keys: config.json itself, or its text_config in a multimodal folder (with
// the keys a text_config leaves to the outer config: dtype and special token ids); under
// the config class's defaults for keys neither holds.
json decoderKeys(const json &j, const Architecture &arch, const std::string &source)
{
    json keys = j;
    if (!arch.textConfigKey.empty()) {
        keys = json::object();
        if (j.contains(arch.textConfigKey) && !j.at(arch.textConfigKey).is_null()) {
            keys = j.at(arch.textConfigKey);
            AWQ_CHECK(keys.is_object(), Format, source, ": '", arch.textConfigKey, "' must be an object");
        }
        for (const char *outer : {"torch_dtype", "dtype", "bos_token_id", "eos_token_id", "tie_word_embeddings"})
            if (!keys.contains(outer) && j.contains(outer))
                keys[outer] = j.at(outer);
    }
    if (arch.configDefaults) {
        const json defaults = json::parse(arch.configDefaults);
        for (const auto &[key, value] : defaults.items())
            if (!keys.contains(key))
                keys[key] = value;
    }
    return keys;
}

} // namespace

ModelConfig ModelConfig::fromJson(const json &j, const std::string &source)
{
    AWQ_CHECK(j.is_object(), Format, source, ": expected a JSON object");
    ModelConfig c;
    c.modelType = ConfigFields(j, source).stringOr("model_type", "");
    if (c.modelType.empty()) {
        std::string types;
        for (const auto &t : supportedModelTypes())
            types += (types.empty() ? "" : ", ") + t;
        fail(ErrorCode::UnsupportedModel, source, ": no 'model_type'; supported model types: ", types);
    }
    const Architecture &arch = architectureFor(c.modelType, source);
    c.description = &arch;
    const json keys = decoderKeys(j, arch, source);
    ConfigFields f(keys, arch.textConfigKey.empty() ? source : source + " (" + arch.textConfigKey + ")");
    if (!arch.keptModules.empty()) {
        std::string kept;
        for (const std::string &m : arch.keptModules)
            kept += (kept.empty() ? "" : " and ") + m;
        c.notes.push_back(source + ": " + arch.causalLmClass + ": only the text model is loaded; " + kept
                          + " are skipped (not run; a quantized output keeps them unchanged in full precision)");
    }
    if (j.contains("architectures") && j.at("architectures").is_array() && !j.at("architectures").empty()
        && j.at("architectures")[0].is_string())
        c.architecture = j.at("architectures")[0].get<std::string>();

    c.hiddenSize = f.integer("hidden_size", 1, kMaxDim);
    c.intermediateSize = f.integer("intermediate_size", 1, kMaxDim);
    c.numLayers = f.integer("num_hidden_layers", 1, kMaxLayers);
    c.numHeads = f.integer("num_attention_heads", 1, kMaxDim);
    c.numKvHeads = f.integerOr("num_key_value_heads", c.numHeads, 1, kMaxDim);
    // Without head_dim, transformers derives it as hidden_size / num_attention_heads unless
    // the config class has its own default (Qwen3Config 128, Gemma(2/3)Config 256).
    AWQ_CHECK(f.has("head_dim") || arch.defaultHeadDim > 0 || c.hiddenSize % c.numHeads == 0, Format, source,
              ": hidden_size (", c.hiddenSize, ") must be a multiple of num_attention_heads (", c.numHeads,
              ") when head_dim is not given");
    c.headDim = f.integerOr("head_dim", arch.defaultHeadDim > 0 ? arch.defaultHeadDim : c.hiddenSize / c.numHeads, 1,
                            kMaxDim);
    c.vocabSize = f.integer("vocab_size", 1, kMaxVocab);
    c.maxPositionEmbeddings = f.integerOr("max_position_embeddings", 2048, 1, kMaxPositions);
    c.rmsNormEps = f.numberOr("rms_norm_eps", 1e-6, 0.0, 1.0);
    c.ropeTheta = f.numberOr("rope_theta", 10000.0, 1.0, 1e12);
    if (keys.contains("rope_scaling")) // gemma3: the full-attention layers' only
        c.ropeScaling = parseRopeScaling(keys.at("rope_scaling"), f.source());
    c.tieWordEmbeddings = f.boolOr("tie_word_embeddings", arch.tiedByDefault);
    c.attentionBias = f.boolOr("attention_bias", false);
    c.mlpBias = f.boolOr("mlp_bias", false);
    c.torchDtype = f.stringOr("torch_dtype", f.stringOr("dtype", "float32"));
    c.bosTokenId = f.integerOr("bos_token_id", -1, -1, kMaxVocab);
    c.eosTokenIds = f.idListOr("eos_token_id");
    // RoPE over part of each head (Phi-3.5-MoE, Phi-4-mini) is refused with this message.
    const double rotary = f.numberOr("partial_rotary_factor", 1.0, 0.0, 1.0);
    AWQ_CHECK(rotary == 1.0, UnsupportedModel, source, ": partial_rotary_factor ", rotary,
              " is not supported (RoPE over the whole head only)");
    c.activation = arch.readActivation ? static_cast<Activation>(arch.readActivation(f))
                                       : parseActivation(f.stringOr("hidden_act", "silu"), source, "hidden_act");
    if (arch.readConfig)
        arch.readConfig(f, c);
    AWQ_CHECK(c.numHeads % c.numKvHeads == 0, Format, source, ": num_attention_heads (", c.numHeads,
              ") must be a multiple of num_key_value_heads (", c.numKvHeads, ")");
    AWQ_CHECK(c.headDim % 2 == 0, Format, source, ": head_dim (", c.headDim, ") must be even for RoPE");
    checkTotalSize(c, source);
    if (j.contains("quantization_config") && !j.at("quantization_config").is_null())
        c.quantization = parseQuantization(j.at("quantization_config"), source);
    return c;
}

ModelConfig ModelConfig::load(const std::filesystem::path &path)
{
    namespace fs = std::filesystem;
    const fs::path file = fs::is_directory(path) ? path / "config.json" : path;
    AWQ_CHECK(fs::exists(file), NotFound, file.string(), ": not found (a model folder needs a config.json)");
    ModelConfig config = fromJson(readJsonFile(file), file.string());
    // AutoAWQ before 2024-02 kept the quantization settings in a separate quant_config.json
    // (docs/awq-format.md §3.2): {"zero_point", "q_group_size", "w_bit", "version": "GEMM"}.
    const fs::path legacy = file.parent_path() / "quant_config.json";
    if (!config.quantization.present && fs::exists(legacy))
        config.quantization = parseQuantization(readJsonFile(legacy), legacy.string());
    return config;
}

json ModelConfig::toJson() const
{
    json j = textJson();
    const Architecture &a = arch();
    if (!a.textConfigKey.empty()) { // the multimodal form: the decoder's keys nested
        json outer = {{"architectures", j.at("architectures")}, {"model_type", modelType}, {"torch_dtype", torchDtype}};
        j.erase("architectures");
        j["model_type"] = a.textModelType;
        if (j.contains("quantization_config")) {
            outer["quantization_config"] = j.at("quantization_config");
            j.erase("quantization_config");
        }
        outer[a.textConfigKey] = j;
        return outer;
    }
    return j;
}

json ModelConfig::textJson() const
{
    json j;
    j["architectures"] = json::array({architecture.empty() ? arch().causalLmClass : architecture});
    j["model_type"] = modelType;
    j["hidden_size"] = hiddenSize;
    j["intermediate_size"] = intermediateSize;
    j["num_hidden_layers"] = numLayers;
    j["num_attention_heads"] = numHeads;
    j["num_key_value_heads"] = numKvHeads;
    j["head_dim"] = headDim;
    j["vocab_size"] = vocabSize;
    j["max_position_embeddings"] = maxPositionEmbeddings;
    j["rms_norm_eps"] = rmsNormEps;
    j["rope_theta"] = ropeTheta;
    j["hidden_act"] = activationName();
    j["tie_word_embeddings"] = tieWordEmbeddings;
    j["attention_bias"] = attentionBias;
    j["mlp_bias"] = mlpBias;
    j["torch_dtype"] = torchDtype;
    if (bosTokenId >= 0)
        j["bos_token_id"] = bosTokenId;
    if (eosTokenIds.size() == 1)
        j["eos_token_id"] = eosTokenIds.front();
    else if (!eosTokenIds.empty())
        j["eos_token_id"] = eosTokenIds;
    switch (ropeScaling.type) {
    case RopeScaling::Type::None: j["rope_scaling"] = nullptr; break;
    case RopeScaling::Type::Linear: j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", ropeScaling.factor}}; break;
    case RopeScaling::Type::Llama3:
        j["rope_scaling"] = {{"rope_type", "llama3"},
                             {"factor", ropeScaling.factor},
                             {"low_freq_factor", ropeScaling.lowFreqFactor},
                             {"high_freq_factor", ropeScaling.highFreqFactor},
                             {"original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings}};
        break;
    }
    if (slidingWindow > 0)
        j["sliding_window"] = slidingWindow;
    if (arch().writeConfig)
        arch().writeConfig(*this, j);
    if (quantization.present) {
        j["quantization_config"] = {{"quant_method", quantization.quantMethod},
                                    {"bits", quantization.bits},
                                    {"group_size", quantization.groupSize},
                                    {"zero_point", quantization.zeroPoint},
                                    {"version", quantization.version},
                                    {"modules_to_not_convert", quantization.modulesToNotConvert.empty()
                                                                   ? json(nullptr)
                                                                   : json(quantization.modulesToNotConvert)}};
    }
    return j;
}

bool ModelConfig::isMoeLayer(int64_t layer) const
{
    return moe.numExperts > 0 && (layer + 1) % moe.sparseStep == 0
           && std::find(moe.denseLayers.begin(), moe.denseLayers.end(), layer) == moe.denseLayers.end();
}

int64_t ModelConfig::parameterCount() const
{
    // Layers differ only between dense and sparse ones (mlp_only_layers): count one of each.
    auto countLayer = [&](int64_t layer) {
        int64_t n = 0;
        for (const LayerTensor &t : layerTensors(*this, layer))
            n += t.linear ? t.inFeatures * t.outFeatures + (t.biasRequired ? t.outFeatures : 0) : t.outFeatures;
        return n;
    };
    int64_t layers = 0, sparse = -1, dense = -1;
    for (int64_t i = 0; i < numLayers; ++i) {
        int64_t &n = isMoeLayer(i) ? sparse : dense;
        if (n < 0)
            n = countLayer(i);
        layers += n;
    }
    const int64_t embeddings = vocabSize * hiddenSize;
    return embeddings * (tieWordEmbeddings ? 1 : 2) + layers + hiddenSize;
}

} // namespace awq
