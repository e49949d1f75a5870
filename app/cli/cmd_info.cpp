// awq info MODEL: validates a model folder from its headers and prints its facts.

#include <iostream>

#include <nlohmann/json.hpp>

#include "awq/model/model_info.h"
#include "cli_args.h"
#include "commands.h"

namespace awq::cli {

namespace {

nlohmann::json toJson(const ModelInfo &info)
{
    nlohmann::json j;
    j["folder"] = info.folder.string();
    j["config"] = info.config.toJson();
    j["parameters"] = info.parameterCount;
    j["weight_bytes"] = info.weightBytes;
    j["size_on_disk"] = info.sizeOnDisk;
    j["shards"] = info.shardCount;
    j["tensors"] = info.tensorCount;
    j["tensors_per_dtype"] = info.tensorsPerDtype;
    j["tokenizer_model"] = info.hasTokenizerModel;
    j["tokenizer_json"] = info.hasTokenizerJson;
    j["chat_template"] = info.hasChatTemplate;
    j["precision"] = info.precisionSummary();
    j["problems"] = info.problems;
    j["notes"] = info.config.notes;
    return j;
}

void printFacts(const ModelInfo &info)
{
    const ModelConfig &c = info.config;
    auto row = [](const std::string &key, const std::string &value) {
        std::cout << "  " << key << std::string(key.size() < 22 ? 22 - key.size() : 1, ' ') << value << "\n";
    };
    std::cout << info.folder.string() << "\n";
    row("architecture", (c.architecture.empty() ? c.modelType : c.architecture) + " (" + c.modelType + ")");
    row("parameters", formatCount(info.parameterCount));
    row("precision", info.precisionSummary());
    row("layers", std::to_string(c.numLayers));
    row("hidden size", std::to_string(c.hiddenSize));
    row("intermediate size", std::to_string(c.intermediateSize));
    if (c.moe.numExperts > 0) {
        int64_t sparse = 0;
        for (int64_t i = 0; i < c.numLayers; ++i)
            sparse += c.isMoeLayer(i) ? 1 : 0;
        row("experts", std::to_string(c.moe.numExperts) + " per MoE layer (" + std::to_string(sparse) + " of "
                           + std::to_string(c.numLayers) + " layers), top " + std::to_string(c.moe.expertsPerToken)
                           + ", each " + std::to_string(c.moe.expertIntermediateSize) + " wide"
                           + (c.moe.sharedIntermediateSize > 0
                                  ? ", shared expert " + std::to_string(c.moe.sharedIntermediateSize) + " wide"
                                  : "")
                           + (c.moe.normTopKProb ? ", top-k weights renormalised" : ""));
    }
    row("attention heads", std::to_string(c.numHeads) + " (KV heads " + std::to_string(c.numKvHeads)
                               + (c.numKvHeads < c.numHeads ? ", GQA)" : ")"));
    row("head dim", std::to_string(c.headDim));
    row("vocabulary", std::to_string(c.vocabSize));
    row("max positions", std::to_string(c.maxPositionEmbeddings));
    std::string rope = std::to_string(c.ropeTheta);
    if (c.ropeScaling.type == RopeScaling::Type::Linear)
        rope += ", linear scaling x" + std::to_string(c.ropeScaling.factor);
    else if (c.ropeScaling.type == RopeScaling::Type::Llama3)
        rope += ", llama3 scaling x" + std::to_string(c.ropeScaling.factor);
    if (c.ropeLocalTheta > 0)
        rope += "; sliding layers " + std::to_string(c.ropeLocalTheta) + ", unscaled";
    row("rope theta", rope);
    int64_t sliding = 0;
    for (int64_t i = 0; i < c.numLayers; ++i)
        sliding += c.attentionKind(i) == AttentionKind::Sliding ? 1 : 0;
    if (sliding > 0 && c.slidingWindow > 0)
        row("sliding window", std::to_string(c.slidingWindow) + " on " + std::to_string(sliding) + " of "
                                  + std::to_string(c.numLayers) + " layers");
    row("tied embeddings", c.tieWordEmbeddings ? "yes" : "no");
    row("weights", formatBytes(info.weightBytes) + " in " + std::to_string(info.tensorCount) + " tensors, "
                       + std::to_string(info.shardCount) + " file(s)");
    row("size on disk", formatBytes(info.sizeOnDisk));
    row("tokenizer", std::string(info.hasTokenizerModel ? "tokenizer.model" : "")
                         + (info.hasTokenizerJson ? (info.hasTokenizerModel ? " + tokenizer.json" : "tokenizer.json")
                                                  : "")
                         + (info.hasChatTemplate ? ", chat template" : ", no chat template"));
}

} // namespace

int runInfo(int argc, char **argv, int first)
{
    ArgParser args("awq info", "Validate a model folder (config.json, every safetensors header, tensor names and "
                               "shapes, tokenizer) without reading the weights, and print its facts.");
    args.positional("MODEL", "a Hugging Face style model folder");
    args.flag("json", "print the facts as JSON");
    if (!args.parse(argc, argv, first)) {
        std::cout << args.help();
        return 0;
    }
    const ModelInfo info = inspectModel(args.positionalValue("MODEL"));
    if (args.has("json"))
        std::cout << toJson(info).dump(2) << "\n";
    else
        printFacts(info);
    for (const auto &note : info.config.notes)
        std::cerr << "awq info: note: " << note << "\n";
    for (const auto &problem : info.problems)
        std::cerr << "awq info: problem: " << problem << "\n";
    return info.loadable() ? 0 : 1;
}

} // namespace awq::cli
