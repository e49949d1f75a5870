#pragma once
// Test fixtures: tiny random Llama-family models written as Hugging Face folders
// (config.json, model.safetensors, tokenizer.model, tokenizer_config.json), with a
// sentencepiece BPE tokenizer trained at test time on generated text.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace awq::test {

struct FixtureSpec {
    std::string modelType = "llama"; // llama | mistral | qwen2 | qwen3 | gemma | gemma2 | phi3 | gemma3_text | gemma3 | mixtral | qwen2_moe | qwen3_moe
    int64_t hiddenSize = 64;
    int64_t intermediateSize = 128;
    int64_t numLayers = 2;
    int64_t numHeads = 4;
    int64_t numKvHeads = 4;          // < numHeads for GQA
    int64_t headDim = 0;             // 0: hidden / heads (written to config.json for qwen3 and gemma always)
    int64_t maxPositionEmbeddings = 256;
    bool tieWordEmbeddings = false;
    bool attentionBias = false;      // true for qwen2
    std::string torchDtype = "float32"; // dtype of the stored weights: float32 | float16 | bfloat16
    double ropeTheta = 10000.0;
    std::string ropeScalingJson;     // e.g. R"({"type":"linear","factor":2.0})", empty for none
    int64_t vocabSize = 0;           // 0: the fixture tokenizer's vocabulary (384)
    uint64_t seed = 1234;
    // gemma2 only, small enough to matter on tiny random models (0 writes null: off).
    double attnLogitSoftcap = 4.0;
    double finalLogitSoftcap = 3.0;
    double queryPreAttnScalar = 24.0;
    int64_t slidingWindow = 5;
    // gemma3 (and gemma3_text): layer i is global when (i + 1) % pattern == 0, written as
    // sliding_window_pattern, or layer_types when listed; the local layers' RoPE base, and
    // rope_scaling linear x8 on the global layers unless ropeScalingJson says otherwise.
    // Soft-capping is left at Gemma3TextConfig's default (off).
    int64_t slidingWindowPattern = 2;
    std::vector<std::string> layerTypes;
    double ropeLocalBaseFreq = 100.0;
    // gemma3: a Gemma3ForConditionalGeneration folder (text_config, a small vision tower),
    // tensors named model.language_model.* (transformers >= 4.52), or with savedLayout
    // language_model.model.* as google/gemma-3-*-it were saved.
    bool savedLayout = false;
    bool addBosToken = true;         // tokenizer_config.json's add_bos_token
    // lm_head rows that win at every position, the first by most (each next one by 10 % less).
    // Channel 0 of every embedding is made large (30) so that it dominates the final hidden
    // state, and only these rows weigh it. Needs untied embeddings; llama-like types.
    std::vector<int64_t> favouredTokens;
    // mixtral / qwen2_moe / qwen3_moe: experts per MoE layer, top-k, each expert's width
    // (mixtral: intermediateSize), qwen2_moe's shared expert width, layers with a dense MLP
    // instead (qwen*: mlp_only_layers; the dense MLP is intermediateSize wide).
    int64_t numExperts = 6;
    int64_t expertsPerToken = 2;
    int64_t expertIntermediateSize = 48;
    int64_t sharedExpertIntermediateSize = 80;
    bool normTopKProb = true;
    std::vector<int64_t> denseLayers;
    // An expert no token is ever routed to (-1: none): embedding channel 0 is made large
    // (30) so that every normed MLP input is positive there, and this expert's router row
    // is strongly negative in that channel.
    int64_t deadExpert = -1;
};

// A fresh empty folder for one test, under $AWQ_TEST_TMP (set by CTest) or the system temp dir.
std::filesystem::path makeTempDir(const std::string &tag);

// A few hundred lines of generated English-like text (deterministic).
std::string fixtureCorpus();

// A sentencepiece BPE model with byte fallback trained on fixtureCorpus(), cached per
// process. Returns the path of tokenizer.model. Its vocabulary has `vocabSize` pieces.
std::filesystem::path fixtureTokenizerModel(int vocabSize = 384);

// Writes a complete model folder at `folder` (created if needed) and returns it.
std::filesystem::path makeFixtureModel(const std::filesystem::path &folder, const FixtureSpec &spec = {});

} // namespace awq::test
