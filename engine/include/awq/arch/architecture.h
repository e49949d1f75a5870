#pragma once
// One description per architecture (model_type): what a decoder layer holds, what the
// tensors are called, how the block is composed, and how AWQ scales it. Every consumer
// derives from it: config parsing, loading and validation, `awq info`, the reference
// block, the fused CPU decoder, the quantizer's capture and scaling groups, the output
// writer and the memory estimates. Adding a variation of the decoder block means adding
// one description (engine/src/arch/<family>.cpp, listed in registry.cpp) and its test
// fixture. docs/architectures.md explains each field with the seven descriptions.
//
// Torch-free: the UI reads it through ModelConfig.

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace awq {

struct ModelConfig;
class ConfigFields;

// What a linear of a decoder layer does. Stacked roles hold several in one tensor, rows
// in order: Qkv = [q; k; v] (phi3), GateUp = [gate; up]. Mixture-of-experts layers add the
// Router ([experts, hidden]: which experts a token goes to) and SharedExpertGate
// ([1, hidden]: qwen2_moe's sigmoid gate on the shared expert); both stay in full precision.
enum class LinearRole : uint8_t { Q, K, V, Qkv, O, Gate, Up, GateUp, Down, Router, SharedExpertGate };
inline constexpr size_t kLinearRoleCount = 11;

// Roles that are never quantized (AutoAWQ's modules_to_not_convert for MoE models).
bool alwaysFullPrecision(LinearRole role);
// Gate, Up, GateUp, Down: an MLP's linears (a dense MLP's, an expert's or the shared expert's).
bool isMlpRole(LinearRole role);

// Which copy of a role a linear is, in a mixture-of-experts layer: the layer's own (None),
// one of the routed experts', or the shared expert's (qwen2_moe).
enum class ExpertScope : uint8_t { None, Routed, Shared };

// A linear of one layer: its role and, for MoE layers, whose it is. expert >= 0: routed
// expert `expert`; kSharedExpert: the shared expert; kNoExpert: the layer's own.
inline constexpr int32_t kNoExpert = -1;
inline constexpr int32_t kSharedExpert = -2;
struct LinearId {
    LinearRole role = LinearRole::Q;
    int32_t expert = kNoExpert;
    LinearId() = default;
    LinearId(LinearRole r, int32_t e = kNoExpert) : role(r), expert(e) {} // NOLINT: a role is its layer's own linear
    bool operator==(const LinearId &o) const { return role == o.role && expert == o.expert; }
    bool operator!=(const LinearId &o) const { return !(*this == o); }
    bool operator<(const LinearId &o) const { return expert != o.expert ? expert < o.expert : role < o.role; }
};

// A role as a description's scaling groups name it: the layer's own, or every routed
// expert's / the shared expert's copy.
struct LinearRef {
    LinearRole role = LinearRole::Q;
    ExpertScope scope = ExpertScope::None;
    LinearRef(LinearRole r, ExpertScope s = ExpertScope::None) : role(r), scope(s) {} // NOLINT: as LinearId
};

// What a norm of a decoder layer does. Input feeds attention; PreMlp feeds the MLP
// (llama's post_attention_layernorm, gemma2's pre_feedforward_layernorm); AttnOut and
// MlpOut normalise the attention and MLP outputs before their residual adds (gemma2's
// post_attention / post_feedforward norms); QHead and KHead normalise each query and key
// head over head_dim before RoPE (qwen3's q_norm / k_norm; gemma3's, (1 + w) like its other norms).
enum class NormRole : uint8_t { Input, AttnOut, PreMlp, MlpOut, QHead, KHead };
inline constexpr size_t kNormRoleCount = 6;

const char *roleName(LinearRole role); // "q", "k", ..., "gate_up", "down"
const char *roleName(NormRole role);   // "input", "attn_out", ...

struct LinearSlot {
    LinearRole role;
    std::string name; // relative to the layer prefix, without ".weight": "self_attn.q_proj"
};
struct NormSlot {
    NormRole role;
    std::string name; // relative to the layer prefix, without ".weight": "input_layernorm"
};

// Where a scaling group's loss is measured (AutoAWQ's module2inspect): the attention
// block (normed input -> o_proj output), the MLP (normed input -> down_proj output), or
// the group's own linear.
enum class InspectedBlock { Attention, Mlp, Linear };

// One AWQ scaling group (AutoAWQ's get_layers_for_scaling entry): linears that read the
// same input share one per-input-channel scale s; s multiplies their columns and 1/s is
// folded into prevOp (a norm's weight, or the last s.size() output rows of a linear).
// In MoE layers a Routed linear stands for every expert's copy: with a norm as prevOp the
// group holds all experts' linears (AutoAWQ's mixtral.py: every expert's w1 and w3 share
// the post-attention norm's scale); with a Routed prevOp the group repeats per expert
// (each expert's w3 -> w2).
struct ScalingGroup {
    std::variant<NormRole, LinearRef> prevOp;
    std::vector<LinearRef> linears;
    InspectedBlock inspect = InspectedBlock::Linear;
    // v -> o only lines up when v_proj's outputs are o_proj's inputs one to one (no GQA).
    bool onlyWithoutGqa = false;
    // Full-precision linears that read the same input (the router): multiplied by s when it
    // is folded, so that they still compute what they did; not part of the search.
    std::vector<LinearRef> alsoScaled = {};
};

// The names outside the decoder layers, and the prefix of the layers' tensors.
struct TensorLayout {
    std::string embedName = "model.embed_tokens.weight";
    std::string layerPrefix = "model.layers.";
    std::string finalNormName = "model.norm.weight";
    std::string lmHeadName = "lm_head.weight";
    std::string layerName(int64_t layer) const { return layerPrefix + std::to_string(layer) + "."; }
};

struct Architecture {
    std::string modelType;     // config.json's model_type
    std::string causalLmClass; // architectures[0] written when a config has none
    std::vector<NormSlot> norms;     // per layer, in checkpoint order
    std::vector<LinearSlot> linears; // per layer, in checkpoint order
    std::vector<ScalingGroup> scaling;
    // RMSNorm scales by (1 + w) (gemma); the checkpoint stores w.
    bool normPlusOne = false;
    // Embeddings times sqrt(hidden_size), rounded to the model's dtype (gemma).
    bool scaleEmbeddings = false;
    // The HF config class's defaults for keys a config.json may leave out.
    int64_t defaultHeadDim = 0; // 0: hidden_size / num_attention_heads
    bool tiedByDefault = false; // tie_word_embeddings
    // Where the decoder's tensors are in a checkpoint, first the layout transformers writes
    // now, then older ones the loader also recognises (matchTensorLayout picks the one a
    // checkpoint has; a quantized output keeps the names it read).
    std::vector<TensorLayout> layouts = {TensorLayout{}};
    // A multimodal folder (gemma3's Gemma3ForConditionalGeneration): the decoder's keys are
    // nested under this config.json key, with this model_type; empty for a text model.
    std::string textConfigKey, textModelType;
    // Modules outside the text model that stay as they are: copied untouched into a
    // quantized output and listed in its modules_to_not_convert so that transformers
    // leaves them in full precision (gemma3: the vision tower and the projector).
    std::vector<std::string> keptModules;
    // The config class's defaults (JSON text) for keys a config.json may leave out, the
    // required ones included (gemma3's text_config holds a few keys only); null: none.
    const char *configDefaults = nullptr;
    // What config.json holds beyond the common fields: the HF config class's defaults and
    // the family's own keys (gemma2's soft-capping, qwen2's biases ...). Runs after the
    // common fields are read; may override them.
    void (*readConfig)(const ConfigFields &fields, ModelConfig &config) = nullptr;
    // Reads the MLP activation when the family names it its own way (gemma's
    // hidden_activation); null: hidden_act, default "silu".
    int (*readActivation)(const ConfigFields &fields) = nullptr; // returns an Activation
    // The family's own keys, written back by ModelConfig::toJson.
    void (*writeConfig)(const ModelConfig &config, nlohmann::json &json) = nullptr;

    bool has(LinearRole role) const;
    bool has(NormRole role) const;
    // The relative tensor name of a role this architecture has (throws Error(Internal) otherwise).
    const std::string &nameOf(LinearRole role) const;
    const std::string &nameOf(NormRole role) const;
    // Mixture-of-experts layers (mixtral, qwen2_moe, qwen3_moe; ModelConfig::isMoeLayer):
    // the Router / SharedExpertGate roles of `linears` exist in those layers only, the dense
    // MLP roles of `linears` in the others. Routed expert e's linears are named
    // expertPrefix + e + "." + name ("block_sparse_moe.experts.3.w1"); the shared expert's
    // names are relative to the layer ("mlp.shared_expert.up_proj").
    std::string expertPrefix;
    std::vector<LinearSlot> expertLinears;
    std::vector<LinearSlot> sharedExpertLinears;
    bool mixtureOfExperts() const { return !expertLinears.empty(); }
    // The relative name of a linear of a layer ("self_attn.q_proj", "mlp.experts.3.up_proj").
    std::string nameOf(const LinearId &id) const;
};

// The registry: every supported architecture, in the order shown to users.
const std::vector<const Architecture *> &architectures();
// The model_type values, in the same order.
std::vector<std::string> supportedModelTypes();
// Throws Error(UnsupportedModel) naming `source` and listing the supported types.
const Architecture &architectureFor(const std::string &modelType, const std::string &source);

// A tensor a decoder layer must hold, with its shape as config.json implies it.
struct LayerTensor {
    std::string name;           // full name without ".weight", e.g. "model.layers.3.self_attn.q_proj"
    std::string relativeName;   // the same without the layer prefix: "self_attn.q_proj"
    bool linear = false;        // a linear ([out, in] weight, or AWQ qweight/qzeros/scales)
    LinearRole linearRole = LinearRole::Q;
    int32_t expert = kNoExpert; // linears of MoE layers: whose (LinearId)
    NormRole normRole = NormRole::Input;
    int64_t inFeatures = 0;     // linears
    int64_t outFeatures = 0;    // linears: rows; norms: length
    bool biasRequired = false;  // the config says this linear has a bias
    LinearId id() const { return {linearRole, expert}; }
};

// Shapes of one linear: {in, out} (experts' MLPs have their own intermediate size).
std::pair<int64_t, int64_t> linearShape(const ModelConfig &config, const LinearId &id);
// Every norm and linear of layer `layer`, in the architecture's order (norms first, then
// the layer's own linears, then the routed experts' and the shared expert's).
std::vector<LayerTensor> layerTensors(const ModelConfig &config, int64_t layer);

// A scaling group of one layer, with the experts spelled out.
struct LayerScalingGroup {
    std::variant<NormRole, LinearId> prevOp;
    std::vector<LinearId> linears;    // scaled and searched
    std::vector<LinearId> alsoScaled; // full precision, scaled when s is folded (the router)
    InspectedBlock inspect = InspectedBlock::Linear;
    int32_t expert = kNoExpert;       // a per-expert group's expert
};
// The description's scaling groups as they apply to layer `layer`: v -> o dropped under
// GQA, dense-MLP groups in MoE layers and MoE groups in dense layers dropped, Routed
// references expanded to the experts.
std::vector<LayerScalingGroup> layerScalingGroups(const ModelConfig &config, int64_t layer);

} // namespace awq
