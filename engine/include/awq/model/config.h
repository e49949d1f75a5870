#pragma once
// config.json of a Hugging Face causal LM, for the architectures the engine runs.
// Parsing validates every field it uses and throws Error(Format / UnsupportedModel)
// naming the file and the field.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace awq {

// The model_type values the engine understands, in the order shown to users.
const std::vector<std::string> &supportedModelTypes();

struct RopeScaling {
    enum class Type { None, Linear, Llama3 };
    Type type = Type::None;
    double factor = 1.0;
    // llama3 only
    double lowFreqFactor = 1.0;
    double highFreqFactor = 4.0;
    int64_t originalMaxPositionEmbeddings = 8192;
};

// quantization_config as AutoAWQ / transformers write it (AWQ-SPEC §3.1).
struct QuantizationConfig {
    bool present = false;
    std::string quantMethod = "awq";
    int bits = 4;
    int groupSize = 128;
    bool zeroPoint = true;
    std::string version = "gemm"; // "gemm" | "gemv" (lower-case)
    std::vector<std::string> modulesToNotConvert;
};

struct ModelConfig {
    std::string modelType;    // "llama" | "mistral" | "qwen2"
    std::string architecture; // architectures[0], e.g. "LlamaForCausalLM"
    int64_t hiddenSize = 0;
    int64_t intermediateSize = 0;
    int64_t numLayers = 0;
    int64_t numHeads = 0;
    int64_t numKvHeads = 0;
    int64_t headDim = 0;
    int64_t vocabSize = 0;
    int64_t maxPositionEmbeddings = 2048;
    double rmsNormEps = 1e-6;
    double ropeTheta = 10000.0;
    RopeScaling ropeScaling;
    bool tieWordEmbeddings = false;
    bool attentionBias = false; // q/k/v carry a bias (qwen2; llama's attention_bias)
    bool mlpBias = false;
    std::string torchDtype = "float32";
    int64_t bosTokenId = -1;
    std::vector<int64_t> eosTokenIds;
    int64_t slidingWindow = 0; // mistral; 0 = none. Informational: windows are not applied.
    QuantizationConfig quantization;

    // Throws Error(Format) / Error(UnsupportedModel); `source` names the file in messages.
    static ModelConfig fromJson(const nlohmann::json &json, const std::string &source);
    // Reads `path` (a config.json, or a folder containing one).
    static ModelConfig load(const std::filesystem::path &path);
    // The HF form, including quantization_config when present.
    nlohmann::json toJson() const;

    int64_t kvDim() const { return numKvHeads * headDim; }
    // Number of parameters (embeddings, all linears, norms, lm_head unless tied).
    int64_t parameterCount() const;
};

} // namespace awq
