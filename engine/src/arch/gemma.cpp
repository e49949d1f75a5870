// gemma: (1 + w) norms, embeddings times sqrt(hidden_size), tanh-GELU, tied head.
// gemma2 adds norms after attention and around the MLP, query_pre_attn_scalar, attention
// and final logit soft-capping, and a sliding window on every other layer. gemma3 adds
// (1 + w) q/k norms per head, its own pattern of sliding layers, which take a RoPE base of
// their own (rope_local_base_freq, unscaled), and the text part of a multimodal folder.

#include "../model/config_fields.h"
#include "families.h"

namespace awq::arch {

namespace {

// transformers runs the tanh GELU whatever older checkpoints' hidden_act "gelu" says,
// unless hidden_activation names one.
int readGemmaActivation(const ConfigFields &f)
{
    const char *key = f.has("hidden_activation") ? "hidden_activation" : "hidden_act";
    std::string act = f.stringOr(key, "gelu_pytorch_tanh");
    if (act == "gelu" && std::string(key) == "hidden_act")
        act = "gelu_pytorch_tanh";
    return static_cast<int>(parseActivation(act, f.source(), key));
}

Architecture gemmaLayout(const std::string &modelType, const std::string &causalLmClass)
{
    Architecture g = llamaLayout(modelType, causalLmClass);
    g.normPlusOne = true;
    g.scaleEmbeddings = true;
    g.defaultHeadDim = 256; // Gemma(2)Config
    g.tiedByDefault = true;
    g.readActivation = readGemmaActivation;
    return g;
}

// Which layers slide: transformers' layer_types when the config lists them, else every
// layer but each `pattern`-th (layer i is full when (i + 1) % pattern == 0; gemma2: 2,
// gemma3: sliding_window_pattern, default 6).
std::vector<AttentionKind> readLayerKinds(const ConfigFields &f, int64_t layers, int64_t pattern)
{
    std::vector<AttentionKind> kinds;
    if (f.has("layer_types")) {
        const json &types = f.raw().at("layer_types");
        AWQ_CHECK(types.is_array() && static_cast<int64_t>(types.size()) == layers, Format, f.source(),
                  ": 'layer_types' must list one entry per layer (", layers, "), got ", jsonPreview(types));
        for (const json &t : types) {
            const std::string type = t.is_string() ? t.get<std::string>() : std::string();
            AWQ_CHECK(type == "sliding_attention" || type == "full_attention", UnsupportedModel, f.source(),
                      ": layer_types entry ", jsonPreview(t),
                      " is not supported (sliding_attention or full_attention)");
            kinds.push_back(type == "sliding_attention" ? AttentionKind::Sliding : AttentionKind::Full);
        }
        return kinds;
    }
    for (int64_t i = 0; i < layers; ++i)
        kinds.push_back((i + 1) % pattern == 0 ? AttentionKind::Full : AttentionKind::Sliding);
    return kinds;
}

// What Gemma 2 and Gemma 3 share: query_pre_attn_scalar, soft-capping (an explicit null
// turns it off) and the window of the sliding layers.
void readGemmaAttention(const ConfigFields &f, ModelConfig &c, double attnSoftcap, double finalSoftcap)
{
    auto softcap = [&](const char *key, double fallback) {
        return f.isNull(key) ? 0.0 : f.numberOr(key, fallback, 0.0, 1e6);
    };
    c.queryScale = 1.0 / std::sqrt(f.numberOr("query_pre_attn_scalar", 256.0, 1e-6, 1e9));
    c.attnLogitSoftcap = softcap("attn_logit_softcapping", attnSoftcap);
    c.finalLogitSoftcap = softcap("final_logit_softcapping", finalSoftcap);
    c.slidingWindow = f.isNull("sliding_window") ? 0 : f.integerOr("sliding_window", 4096, 0, kMaxConfigPositions);
}

void readGemma2(const ConfigFields &f, ModelConfig &c)
{
    readGemmaAttention(f, c, 50.0, 30.0); // Gemma2Config's defaults
    c.layerKinds = readLayerKinds(f, c.numLayers, 2);
}

void readGemma3(const ConfigFields &f, ModelConfig &c)
{
    readGemmaAttention(f, c, 0.0, 0.0); // Gemma3TextConfig: no soft-capping unless configured
    c.layerKinds = readLayerKinds(f, c.numLayers, f.integerOr("sliding_window_pattern", 6, 1, kMaxConfigPositions));
    c.ropeLocalTheta = f.numberOr("rope_local_base_freq", 10000.0, 1.0, 1e12);
}

void writeGemmaAttention(const ModelConfig &c, json &j)
{
    j["query_pre_attn_scalar"] = 1.0 / (c.attentionScale() * c.attentionScale());
    j["attn_logit_softcapping"] = c.attnLogitSoftcap > 0 ? json(c.attnLogitSoftcap) : json(nullptr);
    j["final_logit_softcapping"] = c.finalLogitSoftcap > 0 ? json(c.finalLogitSoftcap) : json(nullptr);
    if (c.slidingWindow == 0)
        j["sliding_window"] = nullptr;
}

void writeGemma3(const ModelConfig &c, json &j)
{
    writeGemmaAttention(c, j);
    j["rope_local_base_freq"] = c.ropeLocalTheta;
    json types = json::array();
    for (int64_t i = 0; i < c.numLayers; ++i)
        types.push_back(c.attentionKind(i) == AttentionKind::Sliding ? "sliding_attention" : "full_attention");
    j["layer_types"] = types;
    // transformers before layer_types (4.50-4.52) reads the pattern instead: written when
    // the layers follow one.
    int64_t pattern = 1;
    while (pattern <= c.numLayers && c.attentionKind(pattern - 1) == AttentionKind::Sliding)
        ++pattern;
    bool regular = true;
    for (int64_t i = 0; i < c.numLayers; ++i)
        regular = regular && (c.attentionKind(i) == AttentionKind::Full) == ((i + 1) % pattern == 0);
    if (regular)
        j["sliding_window_pattern"] = pattern;
}

// Gemma3TextConfig's defaults: the text_config of a multimodal Gemma 3 folder holds only
// the keys that differ from them (gemma-3-4b-it: hidden and intermediate size, layers,
// rope_scaling, sliding_window).
constexpr const char *kGemma3TextDefaults = R"({
    "vocab_size": 262208, "hidden_size": 2304, "intermediate_size": 9216, "num_hidden_layers": 26,
    "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256, "max_position_embeddings": 131072,
    "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "bos_token_id": 2, "eos_token_id": 1})";

// (1 + w) q/k norms per head, gemma2's four norms, local and global layers.
Architecture gemma3Layout(const std::string &modelType, const std::string &causalLmClass)
{
    Architecture g = gemmaLayout(modelType, causalLmClass);
    g.norms = {{NormRole::Input, "input_layernorm"},
               {NormRole::AttnOut, "post_attention_layernorm"},
               {NormRole::PreMlp, "pre_feedforward_layernorm"},
               {NormRole::MlpOut, "post_feedforward_layernorm"},
               {NormRole::QHead, "self_attn.q_norm"},
               {NormRole::KHead, "self_attn.k_norm"}};
    g.readConfig = readGemma3;
    g.writeConfig = writeGemma3;
    g.configDefaults = kGemma3TextDefaults;
    return g;
}

} // namespace

const Architecture &gemma()
{
    static const Architecture a = gemmaLayout("gemma", "GemmaForCausalLM");
    return a;
}

const Architecture &gemma2()
{
    static const Architecture a = [] {
        Architecture g = gemmaLayout("gemma2", "Gemma2ForCausalLM");
        // post_attention_layernorm normalises the attention output here; the MLP reads
        // pre_feedforward_layernorm (the scaling group's prev_op in AutoAWQ's gemma2.py).
        g.norms = {{NormRole::Input, "input_layernorm"},
                   {NormRole::AttnOut, "post_attention_layernorm"},
                   {NormRole::PreMlp, "pre_feedforward_layernorm"},
                   {NormRole::MlpOut, "post_feedforward_layernorm"}};
        g.readConfig = readGemma2;
        g.writeConfig = writeGemmaAttention;
        return g;
    }();
    return a;
}

const Architecture &gemma3Text()
{
    static const Architecture a = gemma3Layout("gemma3_text", "Gemma3ForCausalLM");
    return a;
}

// A Gemma3ForConditionalGeneration folder: the text model's keys under text_config, its
// tensors under model.language_model (transformers >= 4.52) or language_model.model
// (as google/gemma-3-*-it were saved), the vision tower beside them.
const Architecture &gemma3()
{
    static const Architecture a = [] {
        Architecture g = gemma3Layout("gemma3", "Gemma3ForConditionalGeneration");
        g.textConfigKey = "text_config";
        g.textModelType = "gemma3_text";
        TensorLayout current, saved;
        current.embedName = "model.language_model.embed_tokens.weight";
        current.layerPrefix = "model.language_model.layers.";
        current.finalNormName = "model.language_model.norm.weight";
        saved.embedName = "language_model.model.embed_tokens.weight";
        saved.layerPrefix = "language_model.model.layers.";
        saved.finalNormName = "language_model.model.norm.weight";
        saved.lmHeadName = "language_model.lm_head.weight";
        g.layouts = {current, saved};
        g.keptModules = {"vision_tower", "multi_modal_projector"};
        return g;
    }();
    return a;
}

} // namespace awq::arch
