// gemma: (1 + w) norms, embeddings times sqrt(hidden_size), tanh-GELU, tied head.
// gemma2 adds norms after attention and around the MLP, query_pre_attn_scalar, attention
// and final logit soft-capping, and a sliding window on every other layer.

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

void readGemma2(const ConfigFields &f, ModelConfig &c)
{
    // Gemma2Config defaults; an explicit null turns a feature off.
    auto softcap = [&](const char *key, double fallback) {
        return f.isNull(key) ? 0.0 : f.numberOr(key, fallback, 0.0, 1e6);
    };
    c.queryScale = 1.0 / std::sqrt(f.numberOr("query_pre_attn_scalar", 256.0, 1e-6, 1e9));
    c.attnLogitSoftcap = softcap("attn_logit_softcapping", 50.0);
    c.finalLogitSoftcap = softcap("final_logit_softcapping", 30.0);
    c.slidingWindow = f.isNull("sliding_window") ? 0 : f.integerOr("sliding_window", 4096, 0, kMaxConfigPositions);
    c.alternateSlidingWindow = c.slidingWindow > 0;
}

void writeGemma2(const ModelConfig &c, nlohmann::json &j)
{
    j["query_pre_attn_scalar"] = 1.0 / (c.attentionScale() * c.attentionScale());
    j["attn_logit_softcapping"] = c.attnLogitSoftcap > 0 ? nlohmann::json(c.attnLogitSoftcap) : nlohmann::json(nullptr);
    j["final_logit_softcapping"] =
        c.finalLogitSoftcap > 0 ? nlohmann::json(c.finalLogitSoftcap) : nlohmann::json(nullptr);
    if (c.slidingWindow == 0)
        j["sliding_window"] = nullptr;
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
        g.writeConfig = writeGemma2;
        return g;
    }();
    return a;
}

} // namespace awq::arch
