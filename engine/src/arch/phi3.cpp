// phi3: q/k/v stored as one qkv_proj ([q; k; v] rows) and gate/up as one gate_up_proj
// ([gate; up]). AutoAWQ's phi3.py scales them as single linears: norm -> qkv_proj,
// qkv_proj -> o_proj (the v rows take 1/s, without GQA), norm -> gate_up_proj,
// gate_up_proj -> down_proj (the up rows take 1/s).

#include "../model/config_fields.h"
#include "families.h"

namespace awq::arch {

const Architecture &phi3()
{
    static const Architecture a = [] {
        Architecture p;
        p.modelType = "phi3";
        p.causalLmClass = "Phi3ForCausalLM";
        p.norms = {{NormRole::Input, "input_layernorm"}, {NormRole::PreMlp, "post_attention_layernorm"}};
        p.linears = {{LinearRole::Qkv, "self_attn.qkv_proj"},
                     {LinearRole::O, "self_attn.o_proj"},
                     {LinearRole::GateUp, "mlp.gate_up_proj"},
                     {LinearRole::Down, "mlp.down_proj"}};
        p.scaling = {{NormRole::Input, {LinearRole::Qkv}, InspectedBlock::Attention},
                     {LinearRole::Qkv, {LinearRole::O}, InspectedBlock::Linear, /*onlyWithoutGqa=*/true},
                     {NormRole::PreMlp, {LinearRole::GateUp}, InspectedBlock::Mlp},
                     {LinearRole::GateUp, {LinearRole::Down}, InspectedBlock::Linear}};
        p.readConfig = [](const ConfigFields &f, ModelConfig &c) {
            c.slidingWindow = f.integerOr("sliding_window", 0, 0, kMaxConfigPositions); // informational
        };
        return p;
    }();
    return a;
}

} // namespace awq::arch
