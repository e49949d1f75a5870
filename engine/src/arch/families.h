#pragma once
// The descriptions of the supported architectures, one function per model_type, defined
// in the family files beside this one (llama.cpp, qwen.cpp, gemma.cpp, phi3.cpp, moe.cpp) and
// listed in registry.cpp.

#include "awq/arch/architecture.h"

namespace awq::arch {

const Architecture &llama();
const Architecture &mistral();
const Architecture &qwen2();
const Architecture &qwen3();
const Architecture &gemma();
const Architecture &gemma2();
const Architecture &phi3();
const Architecture &mixtral();
const Architecture &qwen2Moe();
const Architecture &qwen3Moe();
const Architecture &gemma3Text(); // gemma3_text: Gemma3ForCausalLM
const Architecture &gemma3();     // gemma3: the text model of Gemma3ForConditionalGeneration

// The Llama block, which most families vary: input_layernorm -> q/k/v -> o_proj, then
// post_attention_layernorm -> gate/up -> down_proj, with AutoAWQ's four scaling groups
// (models/llama.py: norm -> qkv inspected on the attention, v -> o without GQA, norm ->
// gate/up inspected on the MLP, up -> down).
Architecture llamaLayout(const std::string &modelType, const std::string &causalLmClass);

} // namespace awq::arch
