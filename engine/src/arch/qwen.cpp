// qwen2 (biases on q/k/v) and qwen3 (RMSNorm over each query and key head before RoPE).

#include "../model/config_fields.h"
#include "families.h"

namespace awq::arch {

const Architecture &qwen2()
{
    static const Architecture a = [] {
        Architecture q = llamaLayout("qwen2", "Qwen2ForCausalLM");
        q.readConfig = [](const ConfigFields &f, ModelConfig &c) {
            c.attentionBias = true; // Qwen2Attention: q/k/v always carry a bias, o_proj never
            c.slidingWindow = f.integerOr("sliding_window", 0, 0, kMaxConfigPositions); // informational
        };
        return q;
    }();
    return a;
}

const Architecture &qwen3()
{
    static const Architecture a = [] {
        Architecture q = llamaLayout("qwen3", "Qwen3ForCausalLM");
        q.norms.push_back({NormRole::QHead, "self_attn.q_norm"});
        q.norms.push_back({NormRole::KHead, "self_attn.k_norm"});
        q.defaultHeadDim = 128; // Qwen3Config
        return q;
    }();
    return a;
}

} // namespace awq::arch
