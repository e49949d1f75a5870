// llama and mistral: the Llama block as is.

#include "../model/config_fields.h"
#include "families.h"

namespace awq::arch {

Architecture llamaLayout(const std::string &modelType, const std::string &causalLmClass)
{
    Architecture a;
    a.modelType = modelType;
    a.causalLmClass = causalLmClass;
    a.norms = {{NormRole::Input, "input_layernorm"}, {NormRole::PreMlp, "post_attention_layernorm"}};
    a.linears = {{LinearRole::Q, "self_attn.q_proj"}, {LinearRole::K, "self_attn.k_proj"},
                 {LinearRole::V, "self_attn.v_proj"}, {LinearRole::O, "self_attn.o_proj"},
                 {LinearRole::Gate, "mlp.gate_proj"},  {LinearRole::Up, "mlp.up_proj"},
                 {LinearRole::Down, "mlp.down_proj"}};
    a.scaling = {{NormRole::Input, {LinearRole::Q, LinearRole::K, LinearRole::V}, InspectedBlock::Attention},
                 {LinearRole::V, {LinearRole::O}, InspectedBlock::Linear, /*onlyWithoutGqa=*/true},
                 {NormRole::PreMlp, {LinearRole::Gate, LinearRole::Up}, InspectedBlock::Mlp},
                 {LinearRole::Up, {LinearRole::Down}, InspectedBlock::Linear}};
    return a;
}

const Architecture &llama()
{
    static const Architecture a = llamaLayout("llama", "LlamaForCausalLM");
    return a;
}

// Mistral's sliding_window is read and shown but not applied (contexts up to the window
// behave the same; longer ones differ from transformers: README, supported models).
void readSlidingWindow(const ConfigFields &f, ModelConfig &c)
{
    c.slidingWindow = f.integerOr("sliding_window", 0, 0, kMaxConfigPositions);
}

const Architecture &mistral()
{
    static const Architecture a = [] {
        Architecture m = llamaLayout("mistral", "MistralForCausalLM");
        m.readConfig = readSlidingWindow;
        return m;
    }();
    return a;
}

} // namespace awq::arch
