// Mixture-of-experts families: mixtral, qwen2_moe and qwen3_moe. The attention is their
// dense relatives' (mistral, qwen2, qwen3); the MLP of a sparse layer is a router that
// sends each token to its top-k experts, each a gated MLP of its own, plus qwen2_moe's
// shared expert that every token goes through, weighted by a sigmoid gate.
//
// AWQ (AutoAWQ's models/mixtral.py and qwen3_moe.py): every expert's gate and up share the
// post-attention norm's scale, inspected on the whole MoE block; each expert's up -> down
// is its own group, measured on the tokens routed to that expert. The router stays in
// full precision; it reads the same normed input, so it is scaled with that group (AutoAWQ
// leaves it out, which changes what it computes: docs/quality.md, "Mixture of experts").

#include <algorithm>

#include "../model/config_fields.h"
#include "families.h"

namespace awq::arch {

namespace {

// The groups of a sparse layer, after the attention's two.
void addMoeGroups(Architecture &a, bool sharedExpert)
{
    using R = ExpertScope;
    ScalingGroup in{NormRole::PreMlp,
                    {{LinearRole::Gate, R::Routed}, {LinearRole::Up, R::Routed}},
                    InspectedBlock::Mlp};
    in.alsoScaled = {LinearRole::Router};
    if (sharedExpert) {
        in.linears.push_back({LinearRole::Gate, R::Shared});
        in.linears.push_back({LinearRole::Up, R::Shared});
        in.alsoScaled.push_back(LinearRole::SharedExpertGate);
    }
    a.scaling.push_back(in);
    a.scaling.push_back({LinearRef{LinearRole::Up, R::Routed}, {{LinearRole::Down, R::Routed}}, InspectedBlock::Linear});
    if (sharedExpert)
        a.scaling.push_back(
            {LinearRef{LinearRole::Up, R::Shared}, {{LinearRole::Down, R::Shared}}, InspectedBlock::Linear});
}

std::vector<int64_t> readLayerList(const ConfigFields &f, const char *key)
{
    std::vector<int64_t> layers;
    if (!f.has(key))
        return layers;
    const json &list = f.raw().at(key);
    AWQ_CHECK(list.is_array(), Format, f.source(), ": field '", key, "' must be a list of layer indices");
    for (const json &v : list) {
        AWQ_CHECK(v.is_number_integer() && v.get<int64_t>() >= 0, Format, f.source(), ": field '", key,
                  "' must hold layer indices, got ", jsonPreview(v));
        layers.push_back(v.get<int64_t>());
    }
    return layers;
}

// The keys qwen2_moe and qwen3_moe share (Qwen2MoeConfig / Qwen3MoeConfig).
void readQwenMoe(const ConfigFields &f, ModelConfig &c, int64_t experts, int64_t topK, int64_t expertWidth)
{
    c.moe.numExperts = f.integerOr("num_experts", experts, 1, 4096);
    c.moe.expertsPerToken = f.integerOr("num_experts_per_tok", topK, 1, c.moe.numExperts);
    c.moe.expertIntermediateSize = f.integerOr("moe_intermediate_size", expertWidth, 1, kMaxConfigDim);
    c.moe.normTopKProb = f.boolOr("norm_topk_prob", false);
    c.moe.sparseStep = f.integerOr("decoder_sparse_step", 1, 1, 1024);
    c.moe.denseLayers = readLayerList(f, "mlp_only_layers");
}

void writeQwenMoe(const ModelConfig &c, nlohmann::json &j)
{
    j["num_experts"] = c.moe.numExperts;
    j["num_experts_per_tok"] = c.moe.expertsPerToken;
    j["moe_intermediate_size"] = c.moe.expertIntermediateSize;
    j["norm_topk_prob"] = c.moe.normTopKProb;
    j["decoder_sparse_step"] = c.moe.sparseStep;
    j["mlp_only_layers"] = c.moe.denseLayers;
    if (c.moe.sharedIntermediateSize > 0)
        j["shared_expert_intermediate_size"] = c.moe.sharedIntermediateSize;
}

Architecture qwenMoeLayout(const std::string &modelType, const std::string &causalLmClass)
{
    Architecture a = llamaLayout(modelType, causalLmClass); // attention, and the dense MLP of mlp_only_layers
    a.linears.push_back({LinearRole::Router, "mlp.gate"});
    a.expertPrefix = "mlp.experts.";
    a.expertLinears = {{LinearRole::Gate, "gate_proj"}, {LinearRole::Up, "up_proj"}, {LinearRole::Down, "down_proj"}};
    return a;
}

} // namespace

const Architecture &mixtral()
{
    static const Architecture a = [] {
        Architecture m = llamaLayout("mixtral", "MixtralForCausalLM");
        // Every layer is sparse: no dense MLP.
        m.linears.erase(std::remove_if(m.linears.begin(), m.linears.end(),
                                       [](const LinearSlot &s) { return isMlpRole(s.role); }),
                        m.linears.end());
        m.scaling.resize(2); // the attention's groups
        m.linears.push_back({LinearRole::Router, "block_sparse_moe.gate"});
        m.expertPrefix = "block_sparse_moe.experts.";
        m.expertLinears = {{LinearRole::Gate, "w1"}, {LinearRole::Down, "w2"}, {LinearRole::Up, "w3"}};
        addMoeGroups(m, false);
        m.readConfig = [](const ConfigFields &f, ModelConfig &c) {
            // MixtralConfig: intermediate_size is each expert's width; top-k weights always renormalised.
            c.ropeTheta = f.numberOr("rope_theta", 1e6, 1e-6, 1e12);
            c.slidingWindow = f.integerOr("sliding_window", 0, 0, kMaxConfigPositions); // informational, as mistral
            c.moe.numExperts = f.integerOr("num_local_experts", 8, 1, 4096);
            c.moe.expertsPerToken = f.integerOr("num_experts_per_tok", 2, 1, c.moe.numExperts);
            c.moe.expertIntermediateSize = c.intermediateSize;
            c.moe.normTopKProb = true;
        };
        m.writeConfig = [](const ModelConfig &c, nlohmann::json &j) {
            j["num_local_experts"] = c.moe.numExperts;
            j["num_experts_per_tok"] = c.moe.expertsPerToken;
        };
        return m;
    }();
    return a;
}

const Architecture &qwen2Moe()
{
    static const Architecture a = [] {
        Architecture q = qwenMoeLayout("qwen2_moe", "Qwen2MoeForCausalLM");
        q.linears.push_back({LinearRole::SharedExpertGate, "mlp.shared_expert_gate"});
        q.sharedExpertLinears = {{LinearRole::Gate, "mlp.shared_expert.gate_proj"},
                                 {LinearRole::Up, "mlp.shared_expert.up_proj"},
                                 {LinearRole::Down, "mlp.shared_expert.down_proj"}};
        addMoeGroups(q, true);
        q.readConfig = [](const ConfigFields &f, ModelConfig &c) {
            c.attentionBias = true; // Qwen2MoeAttention: q/k/v carry a bias, as qwen2
            readQwenMoe(f, c, 60, 4, 1408);
            c.moe.sharedIntermediateSize = f.integerOr("shared_expert_intermediate_size", 5632, 1, kMaxConfigDim);
        };
        q.writeConfig = writeQwenMoe;
        return q;
    }();
    return a;
}

const Architecture &qwen3Moe()
{
    static const Architecture a = [] {
        Architecture q = qwenMoeLayout("qwen3_moe", "Qwen3MoeForCausalLM");
        q.norms.push_back({NormRole::QHead, "self_attn.q_norm"});
        q.norms.push_back({NormRole::KHead, "self_attn.k_norm"});
        q.defaultHeadDim = 128; // Qwen3MoeConfig
        addMoeGroups(q, false);
        q.readConfig = [](const ConfigFields &f, ModelConfig &c) { readQwenMoe(f, c, 128, 8, 768); };
        q.writeConfig = writeQwenMoe;
        return q;
    }();
    return a;
}

} // namespace awq::arch
