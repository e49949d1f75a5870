#include "fixture_model.h"

#include <algorithm>

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/io/safetensors.h"
#include "awq/tokenizer/tokenizer.h"

namespace fs = std::filesystem;

namespace awq::test {

fs::path makeTempDir(const std::string &tag)
{
    const char *root = std::getenv("AWQ_TEST_TMP");
    fs::path base = root ? fs::path(root) : fs::temp_directory_path() / "awq-tests";
    static std::mt19937_64 rng(std::random_device{}());
    fs::path dir = base / (tag + "-" + std::to_string(rng() % 100000000));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::string fixtureCorpus()
{
    // Deterministic, varied English-like sentences: enough for a few hundred BPE merges.
    const char *subjects[] = {"The old sailor", "A young teacher", "My neighbour", "The quiet river", "Every student",
                              "The small dog", "Her brother", "The village baker", "A tired traveller", "The clock"};
    const char *verbs[] = {"walked along", "looked at", "remembered", "painted", "carried", "found", "followed",
                           "described", "counted", "opened"};
    const char *objects[] = {"the long road", "a bright window", "the morning market", "seven green apples",
                             "an empty boat", "the heavy door", "a letter from home", "the northern hills",
                             "twelve silver coins", "the winter garden"};
    const char *endings[] = {"before the rain began.", "while the bells rang.", "and smiled.", "in the evening.",
                             "with great care.", "at noon, 1874.", "without a word!", "near the station?",
                             "as the sun rose; it was warm.", "for the first time."};
    std::ostringstream out;
    std::mt19937 rng(42);
    for (int i = 0; i < 600; ++i)
        out << subjects[rng() % 10] << " " << verbs[rng() % 10] << " " << objects[rng() % 10] << " "
            << endings[rng() % 10] << (i % 5 == 4 ? "\n" : " ");
    return out.str();
}

fs::path fixtureTokenizerModel(int vocabSize)
{
    static std::mutex mutex;
    static std::map<int, fs::path> cache;
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = cache.find(vocabSize); it != cache.end() && fs::exists(it->second))
        return it->second;
    const fs::path dir = makeTempDir("spm" + std::to_string(vocabSize));
    const fs::path corpus = dir / "corpus.txt";
    std::ofstream(corpus) << fixtureCorpus();
    const fs::path prefix = dir / "tokenizer";
    trainSentencePiece("--input=" + corpus.string() + " --model_prefix=" + prefix.string()
                       + " --vocab_size=" + std::to_string(vocabSize)
                       + " --model_type=bpe --byte_fallback=true --character_coverage=1.0"
                         " --hard_vocab_limit=false --num_threads=1 --minloglevel=2"
                         " --bos_id=1 --eos_id=2 --unk_id=0 --pad_id=-1");
    cache[vocabSize] = dir / "tokenizer.model";
    return cache[vocabSize];
}

namespace {

c10::ScalarType storageType(const std::string &torchDtype)
{
    if (torchDtype == "float16")
        return at::kHalf;
    if (torchDtype == "bfloat16")
        return at::kBFloat16;
    return at::kFloat;
}

} // namespace

fs::path makeFixtureModel(const fs::path &folder, const FixtureSpec &spec)
{
    fs::create_directories(folder);
    const fs::path spm = fixtureTokenizerModel();
    fs::copy_file(spm, folder / "tokenizer.model", fs::copy_options::overwrite_existing);
    auto tokenizer = Tokenizer::fromSentencePieceFile(spm);
    const int64_t vocab = spec.vocabSize > 0 ? spec.vocabSize : tokenizer->vocabSize();
    const int64_t headDim = spec.headDim > 0 ? spec.headDim : spec.hiddenSize / spec.numHeads;
    const bool multimodal = spec.modelType == "gemma3", gemma3 = multimodal || spec.modelType == "gemma3_text";
    const bool gemma2 = spec.modelType == "gemma2" || gemma3; // gemma3: gemma2's norms and attention keys
    const bool qwen3 = spec.modelType == "qwen3" || spec.modelType == "qwen3_moe";
    const bool gemma = spec.modelType == "gemma" || gemma2;
    const bool mixtral = spec.modelType == "mixtral";
    const bool qwenMoe = spec.modelType == "qwen2_moe" || spec.modelType == "qwen3_moe";
    const bool sharedExpert = spec.modelType == "qwen2_moe";
    auto moeLayer = [&](int64_t layer) {
        return (mixtral || qwenMoe)
               && std::find(spec.denseLayers.begin(), spec.denseLayers.end(), layer) == spec.denseLayers.end();
    };
    const std::map<std::string, std::string> classes = {
        {"qwen2", "Qwen2ForCausalLM"},   {"qwen3", "Qwen3ForCausalLM"},          {"gemma", "GemmaForCausalLM"},
        {"gemma2", "Gemma2ForCausalLM"}, {"gemma3_text", "Gemma3ForCausalLM"},   {"phi3", "Phi3ForCausalLM"},
        {"mistral", "MistralForCausalLM"}, {"mixtral", "MixtralForCausalLM"}, {"qwen2_moe", "Qwen2MoeForCausalLM"},
        {"qwen3_moe", "Qwen3MoeForCausalLM"}};
    const auto cls = classes.find(spec.modelType);

    nlohmann::json config = {
        {"architectures", {cls != classes.end() ? cls->second : "LlamaForCausalLM"}},
        {"model_type", multimodal ? "gemma3_text" : spec.modelType},
        {"hidden_size", spec.hiddenSize},
        {"intermediate_size", spec.intermediateSize},
        {"num_hidden_layers", spec.numLayers},
        {"num_attention_heads", spec.numHeads},
        {"num_key_value_heads", spec.numKvHeads},
        {"vocab_size", vocab},
        {"max_position_embeddings", spec.maxPositionEmbeddings},
        {"rms_norm_eps", 1e-6},
        {"rope_theta", spec.ropeTheta},
        {"hidden_act", "silu"},
        {"tie_word_embeddings", spec.tieWordEmbeddings},
        {"torch_dtype", spec.torchDtype},
        {"bos_token_id", tokenizer->bosId()},
        {"eos_token_id", tokenizer->eosId()},
    };
    if (spec.modelType != "qwen2" && spec.modelType != "qwen2_moe")
        config["attention_bias"] = spec.attentionBias;
    if (mixtral) {
        config["num_local_experts"] = spec.numExperts;
        config["num_experts_per_tok"] = spec.expertsPerToken;
    }
    if (qwenMoe) {
        config["num_experts"] = spec.numExperts;
        config["num_experts_per_tok"] = spec.expertsPerToken;
        config["moe_intermediate_size"] = spec.expertIntermediateSize;
        config["norm_topk_prob"] = spec.normTopKProb;
        config["decoder_sparse_step"] = 1;
        config["mlp_only_layers"] = spec.denseLayers;
        if (sharedExpert)
            config["shared_expert_intermediate_size"] = spec.sharedExpertIntermediateSize;
    }
    if (spec.headDim > 0 || qwen3 || gemma)
        config["head_dim"] = headDim;
    if (gemma) { // as Gemma 2B/7B ship it: the legacy hidden_act and the one transformers runs
        config["hidden_act"] = "gelu";
        config["hidden_activation"] = "gelu_pytorch_tanh";
    }
    if (gemma2) {
        auto orNull = [](double v) { return v > 0 ? nlohmann::json(v) : nlohmann::json(nullptr); };
        config["hidden_act"] = "gelu_pytorch_tanh";
        config["attn_logit_softcapping"] = orNull(spec.attnLogitSoftcap);
        config["final_logit_softcapping"] = orNull(spec.finalLogitSoftcap);
        config["query_pre_attn_scalar"] = spec.queryPreAttnScalar;
        config["sliding_window"] = spec.slidingWindow > 0 ? nlohmann::json(spec.slidingWindow) : nlohmann::json(nullptr);
    }
    if (gemma3) { // as Gemma 3 ships: no soft-capping, two RoPE bases, scaling on the global layers
        config.erase("attn_logit_softcapping");
        config.erase("final_logit_softcapping");
        config["rope_local_base_freq"] = spec.ropeLocalBaseFreq;
        if (spec.layerTypes.empty())
            config["sliding_window_pattern"] = spec.slidingWindowPattern;
        else
            config["layer_types"] = spec.layerTypes;
        config["rope_scaling"] = nlohmann::json{{"rope_type", "linear"}, {"factor", 8.0}};
    }
    if (!spec.ropeScalingJson.empty())
        config["rope_scaling"] = nlohmann::json::parse(spec.ropeScalingJson);
    if (multimodal) { // the text model's keys under text_config; dtype and token ids outside
        nlohmann::json outer = {{"architectures", {"Gemma3ForConditionalGeneration"}},
                                {"model_type", "gemma3"},
                                {"torch_dtype", spec.torchDtype},
                                {"bos_token_id", config["bos_token_id"]},
                                {"eos_token_id", config["eos_token_id"]},
                                {"mm_tokens_per_image", 4},
                                {"vision_config", {{"model_type", "siglip_vision_model"}, {"hidden_size", 8},
                                                   {"num_hidden_layers", 1}, {"image_size", 8}, {"patch_size", 4}}}};
        for (const char *outerKey : {"architectures", "torch_dtype", "bos_token_id", "eos_token_id"})
            config.erase(outerKey);
        outer["text_config"] = config;
        config = outer;
    }
    std::ofstream(folder / "config.json") << config.dump(2);
    nlohmann::json tokenizerConfig = {{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"add_bos_token", spec.addBosToken},
                                      {"model_max_length", spec.maxPositionEmbeddings}};
    std::ofstream(folder / "tokenizer_config.json") << tokenizerConfig.dump(2);

    // Random weights with a scale that keeps activations in a sane range.
    at::manual_seed(static_cast<uint64_t>(spec.seed));
    const auto type = storageType(spec.torchDtype);
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    auto add = [&](const std::string &name, at::IntArrayRef shape, double scale) {
        tensors.emplace_back(name, (at::randn(shape) * scale).to(type));
    };
    // Gemma stores w of a (1 + w) norm: around 0 rather than around 1.
    auto addNorm = [&](const std::string &name, int64_t size) {
        tensors.emplace_back(name, ((gemma ? 0.0 : 1.0) + 0.1 * at::randn({size})).to(type));
    };
    const double w = 1.0 / std::sqrt(static_cast<double>(spec.hiddenSize));
    const bool bias = spec.attentionBias || spec.modelType == "qwen2" || spec.modelType == "qwen2_moe";
    // Gemma multiplies the embeddings by sqrt(hidden): keep what reaches layer 0 near unit scale.
    add("model.embed_tokens.weight", {vocab, spec.hiddenSize}, gemma ? w : 1.0);
    for (int64_t i = 0; i < spec.numLayers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        addNorm(p + "input_layernorm.weight", spec.hiddenSize);
        addNorm(p + "post_attention_layernorm.weight", spec.hiddenSize);
        if (gemma2) {
            addNorm(p + "pre_feedforward_layernorm.weight", spec.hiddenSize);
            addNorm(p + "post_feedforward_layernorm.weight", spec.hiddenSize);
        }
        if (qwen3 || gemma3) {
            addNorm(p + "self_attn.q_norm.weight", headDim);
            addNorm(p + "self_attn.k_norm.weight", headDim);
        }
        add(p + "self_attn.q_proj.weight", {spec.numHeads * headDim, spec.hiddenSize}, w);
        add(p + "self_attn.k_proj.weight", {spec.numKvHeads * headDim, spec.hiddenSize}, w);
        add(p + "self_attn.v_proj.weight", {spec.numKvHeads * headDim, spec.hiddenSize}, w);
        add(p + "self_attn.o_proj.weight", {spec.hiddenSize, spec.numHeads * headDim}, w);
        if (bias) {
            add(p + "self_attn.q_proj.bias", {spec.numHeads * headDim}, 0.1);
            add(p + "self_attn.k_proj.bias", {spec.numKvHeads * headDim}, 0.1);
            add(p + "self_attn.v_proj.bias", {spec.numKvHeads * headDim}, 0.1);
            if (spec.modelType != "qwen2" && spec.modelType != "qwen2_moe") // attention_bias covers o_proj too
                add(p + "self_attn.o_proj.bias", {spec.hiddenSize}, 0.1);
        }
        auto addMlp = [&](const std::string &m, const char *gate, const char *up, const char *down, int64_t width) {
            add(m + gate + ".weight", {width, spec.hiddenSize}, w);
            add(m + up + ".weight", {width, spec.hiddenSize}, w);
            add(m + down + ".weight", {spec.hiddenSize, width}, 1.0 / std::sqrt(static_cast<double>(width)));
        };
        if (!moeLayer(i)) {
            addMlp(p + "mlp.", "gate_proj", "up_proj", "down_proj", spec.intermediateSize);
            continue;
        }
        const std::string moe = p + (mixtral ? "block_sparse_moe." : "mlp.");
        // A router scale that spreads the tokens over the experts (no ties on random data).
        add(moe + "gate.weight", {spec.numExperts, spec.hiddenSize}, 4.0 * w);
        if (spec.deadExpert >= 0) {
            at::Tensor &router = tensors.back().second;
            router = router.to(at::kFloat);
            router[spec.deadExpert][0] = -5.0;
            router = router.to(type);
        }
        for (int64_t e = 0; e < spec.numExperts; ++e) {
            const std::string x = moe + "experts." + std::to_string(e) + ".";
            if (mixtral)
                addMlp(x, "w1", "w3", "w2", spec.intermediateSize);
            else
                addMlp(x, "gate_proj", "up_proj", "down_proj", spec.expertIntermediateSize);
        }
        if (sharedExpert) {
            addMlp(moe + "shared_expert.", "gate_proj", "up_proj", "down_proj", spec.sharedExpertIntermediateSize);
            add(moe + "shared_expert_gate.weight", {1, spec.hiddenSize}, w);
        }
    }
    addNorm("model.norm.weight", spec.hiddenSize);
    if (!spec.tieWordEmbeddings)
        add("lm_head.weight", {vocab, spec.hiddenSize}, w);
    if (spec.deadExpert >= 0) { // every token large and positive in channel 0 (see FixtureSpec)
        for (auto &[name, t] : tensors)
            if (name == "model.embed_tokens.weight") {
                at::Tensor embed = t.to(at::kFloat);
                embed.select(1, 0).fill_(30.0 * (gemma ? w : 1.0));
                t = embed.to(type);
            }
    }
    if (!spec.favouredTokens.empty()) {
        AWQ_CHECK(!spec.tieWordEmbeddings && !gemma, InvalidArgument,
                  "favoured tokens need untied embeddings and no embedding scaling");
        std::map<std::string, at::Tensor> byName(tensors.begin(), tensors.end());
        at::Tensor embed = byName.at("model.embed_tokens.weight").to(at::kFloat);
        at::Tensor head = byName.at("lm_head.weight").to(at::kFloat);
        embed.select(1, 0).fill_(30.0);
        head.select(1, 0).zero_();
        for (size_t i = 0; i < spec.favouredTokens.size(); ++i)
            head[spec.favouredTokens[i]][0] = 3.0 * (1.0 - 0.1 * static_cast<double>(i));
        for (auto &[name, t] : tensors)
            if (name == "model.embed_tokens.weight")
                t = embed.to(type);
            else if (name == "lm_head.weight")
                t = head.to(type);
    }
    if (spec.modelType == "phi3") { // stacked as Phi-3 stores them: qkv_proj = [q; k; v], gate_up_proj = [gate; up]
        AWQ_CHECK(!bias, InvalidArgument, "the phi3 fixture has no attention biases");
        std::map<std::string, at::Tensor> byName(tensors.begin(), tensors.end());
        auto take = [&](const std::string &name) {
            at::Tensor t = byName.at(name);
            byName.erase(name);
            return t;
        };
        for (int64_t i = 0; i < spec.numLayers; ++i) {
            const std::string p = "model.layers." + std::to_string(i) + ".";
            byName[p + "self_attn.qkv_proj.weight"] = at::cat(
                {take(p + "self_attn.q_proj.weight"), take(p + "self_attn.k_proj.weight"), take(p + "self_attn.v_proj.weight")});
            byName[p + "mlp.gate_up_proj.weight"] = at::cat({take(p + "mlp.gate_proj.weight"), take(p + "mlp.up_proj.weight")});
        }
        tensors.assign(byName.begin(), byName.end());
    }
    if (multimodal) { // the text model under its prefix, and a vision tower beside it
        const std::string text = spec.savedLayout ? "language_model.model." : "model.language_model.";
        const std::string outside = spec.savedLayout ? "" : "model.";
        for (auto &[name, t] : tensors)
            if (name.rfind("model.", 0) == 0)
                name = text + name.substr(6);
            else if (spec.savedLayout) // lm_head.weight
                name = "language_model." + name;
        add(outside + "vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.weight", {8, 8}, 0.1);
        add(outside + "vision_tower.vision_model.post_layernorm.weight", {8}, 0.1);
        add(outside + "multi_modal_projector.mm_input_projection_weight", {8, spec.hiddenSize}, 0.1);
    }
    writeSafetensorsFile(folder / "model.safetensors", tensors);
    return folder;
}

} // namespace awq::test
