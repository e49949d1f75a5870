#pragma once
// config.json of a Hugging Face causal LM, for the architectures the engine runs.
// Parsing validates every field it uses and throws Error(Format / UnsupportedModel)
// naming the file and the field. What differs between architectures (tensor names, block
// composition, AWQ scaling groups, the family's own config keys) lives in its description,
// awq/arch/architecture.h, which ModelConfig::arch() returns.

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "awq/arch/architecture.h"

namespace awq {

struct RopeScaling {
    enum class Type { None, Linear, Llama3 };
    Type type = Type::None;
    double factor = 1.0;
    // llama3 only
    double lowFreqFactor = 1.0;
    double highFreqFactor = 4.0;
    int64_t originalMaxPositionEmbeddings = 8192;
};

// quantization_config as AutoAWQ / transformers write it (docs/awq-format.md, "config.json").
struct QuantizationConfig {
    bool present = false;
    std::string quantMethod = "awq";
    int bits = 4;
    int groupSize = 128;
    bool zeroPoint = true;
    std::string version = "gemm"; // "gemm" | "gemv" (lower-case)
    std::vector<std::string> modulesToNotConvert;
};

// What a layer's attention sees: every earlier position, or the last sliding_window ones.
// transformers' layer_types names them "full_attention" and "sliding_attention".
enum class AttentionKind : uint8_t { Full, Sliding };

// The MLP's activation: act(gate) * up.
enum class Activation {
    Silu,    // "silu" / "swish"
    GeluTanh // "gelu_pytorch_tanh" (gemma): GELU with the tanh approximation
};

// Mixture-of-experts settings (mixtral: num_local_experts; qwen2_moe / qwen3_moe:
// num_experts, moe_intermediate_size, decoder_sparse_step, mlp_only_layers).
struct MoeConfig {
    int64_t numExperts = 0;               // 0: a dense model
    int64_t expertsPerToken = 0;          // num_experts_per_tok (top-k)
    int64_t expertIntermediateSize = 0;   // each routed expert's MLP width
    int64_t sharedIntermediateSize = 0;   // qwen2_moe's shared expert; 0: none
    bool normTopKProb = true;             // the top-k routing weights renormalised to sum 1
    int64_t sparseStep = 1;               // layer i is sparse when (i + 1) % sparseStep == 0 ...
    std::vector<int64_t> denseLayers;     // ... and i is not listed here (mlp_only_layers)
};

struct ModelConfig {
    std::string modelType;    // one of supportedModelTypes(): "llama", "gemma3_text", ...
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
    // Applied on the layers layerKinds marks Sliding (gemma2, gemma3); mistral / qwen2 / phi3:
    // informational, their windows are not applied.
    int64_t slidingWindow = 0; // 0 = none
    // Per layer; empty or shorter than numLayers: Full for the rest. gemma2: even layers
    // slide; gemma3: layer_types, or sliding_window_pattern (every pattern-th layer is full).
    std::vector<AttentionKind> layerKinds;
    // gemma3: the RoPE base of the sliding layers (rope_local_base_freq), which take no
    // rope_scaling; full layers use rope_theta and rope_scaling. 0: every layer uses those.
    double ropeLocalTheta = 0.0;
    // Attention scores times this; 0 = 1/sqrt(head_dim) (gemma2: query_pre_attn_scalar^-1/2).
    double queryScale = 0.0;
    double attnLogitSoftcap = 0.0;   // gemma2: scores -> cap * tanh(scores / cap); 0 = off
    double finalLogitSoftcap = 0.0;  // gemma2: logits -> cap * tanh(logits / cap); 0 = off
    Activation activation = Activation::Silu;
    MoeConfig moe;
    QuantizationConfig quantization;
    // The description of modelType (set by fromJson; never null in a parsed config).
    const Architecture *description = nullptr;
    // Which of the description's tensor layouts the checkpoint uses (matchTensorLayout).
    size_t layout = 0;
    // What the engine leaves aside in this model, one sentence each (gemma3: the vision
    // tower of a multimodal folder); `awq info`, the model page and the quantizer show them.
    std::vector<std::string> notes;

    const Architecture &arch() const;
    // Throws Error(Format) / Error(UnsupportedModel); `source` names the file in messages.
    static ModelConfig fromJson(const nlohmann::json &json, const std::string &source);
    // Reads `path` (a config.json, or a folder containing one).
    static ModelConfig load(const std::filesystem::path &path);
    // The HF form, including quantization_config when present (a multimodal description's
    // nested form: the decoder's keys under its text config key).
    nlohmann::json toJson() const;

    int64_t kvDim() const { return numKvHeads * headDim; }
    // The tensor names of this checkpoint's layout.
    const TensorLayout &names() const { return arch().layouts.at(layout); }
    AttentionKind attentionKind(int64_t layer) const
    {
        return layer >= 0 && static_cast<size_t>(layer) < layerKinds.size() ? layerKinds[static_cast<size_t>(layer)]
                                                                            : AttentionKind::Full;
    }
    // Keys a query at position p of layer `layer` sees: p - window + 1 .. p (0: all).
    int64_t attentionWindow(int64_t layer) const
    {
        return attentionKind(layer) == AttentionKind::Sliding ? slidingWindow : 0;
    }
    // The layer's RoPE uses the local base (gemma3's sliding layers), unscaled.
    bool localRope(int64_t layer) const
    {
        return ropeLocalTheta > 0 && attentionKind(layer) == AttentionKind::Sliding;
    }
    double attentionScale() const
    {
        return queryScale > 0 ? queryScale : 1.0 / std::sqrt(static_cast<double>(headDim));
    }
    // Layer `layer` has routed experts instead of a dense MLP.
    bool isMoeLayer(int64_t layer) const;
    const char *activationName() const { return activation == Activation::Silu ? "silu" : "gelu_pytorch_tanh"; }
    // Number of parameters (embeddings, all linears, norms, lm_head unless tied).
    int64_t parameterCount() const;

private:
    nlohmann::json textJson() const; // toJson's flat form
};

} // namespace awq
