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
// in order: Qkv = [q; k; v] (phi3), GateUp = [gate; up].
enum class LinearRole : uint8_t { Q, K, V, Qkv, O, Gate, Up, GateUp, Down };
inline constexpr size_t kLinearRoleCount = 9;

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
struct ScalingGroup {
    std::variant<NormRole, LinearRole> prevOp;
    std::vector<LinearRole> linears;
    InspectedBlock inspect = InspectedBlock::Linear;
    // v -> o only lines up when v_proj's outputs are o_proj's inputs one to one (no GQA).
    bool onlyWithoutGqa = false;
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
    bool linear = false;        // a linear ([out, in] weight, or AWQ qweight/qzeros/scales)
    LinearRole linearRole = LinearRole::Q;
    NormRole normRole = NormRole::Input;
    int64_t inFeatures = 0;     // linears
    int64_t outFeatures = 0;    // linears: rows; norms: length
    bool biasRequired = false;  // the config says this linear has a bias
};

// Shapes of one role's linear: {in, out}.
std::pair<int64_t, int64_t> linearShape(const ModelConfig &config, LinearRole role);
// Every norm and linear of layer `layer`, in the architecture's order (norms first).
std::vector<LayerTensor> layerTensors(const ModelConfig &config, int64_t layer);

} // namespace awq
