#include "awq/model/model_folder.h"

#include "awq/arch/architecture.h"
#include "awq/core/error.h"
#include "awq/io/safetensors.h"
#include "awq/model/consistency.h"
#include "awq/tokenizer/tokenizer.h"

namespace awq {

namespace fs = std::filesystem;

ModelFolder::ModelFolder(ModelFolder &&) noexcept = default;
ModelFolder &ModelFolder::operator=(ModelFolder &&) noexcept = default;
ModelFolder::~ModelFolder() = default;

ModelFolder ModelFolder::open(const fs::path &folder)
{
    AWQ_CHECK(fs::exists(folder), NotFound, folder.string(), ": no such model folder");
    AWQ_CHECK(fs::is_directory(folder), InvalidArgument, folder.string(), ": not a folder (pick the model's folder)");
    ModelFolder f;
    f.m_path = folder;
    f.m_config = ModelConfig::load(folder);
    f.m_weights = WeightStore::openFolder(folder);
    matchTensorLayout(f.m_config, *f.m_weights);
    f.m_tokenizer = Tokenizer::load(folder);
    return f;
}

std::vector<std::string> ModelFolder::problems() const
{
    std::vector<std::string> all = tensorProblems(m_config, *m_weights);
    for (std::string &p : quantizationProblems(m_config, *m_weights, configFile().string()))
        all.push_back(std::move(p));
    for (std::string &p : tokenizerProblems(m_config, *m_tokenizer, m_path))
        all.push_back(std::move(p));
    return all;
}

void ModelFolder::requireLoadable() const
{
    const std::vector<std::string> all = problems();
    if (all.empty())
        return;
    fail(ErrorCode::Format, m_path.string(), ": ", all.front(),
         all.size() > 1 ? " (and " + std::to_string(all.size() - 1) + " more problems: awq info lists them)"
                        : std::string());
}

void matchTensorLayout(ModelConfig &config, const WeightStore &store)
{
    const std::vector<TensorLayout> &layouts = config.arch().layouts;
    for (size_t i = 0; i < layouts.size(); ++i)
        if (store.contains(layouts[i].embedName)) {
            config.layout = i;
            return;
        }
    config.layout = 0;
}

std::vector<std::string> tensorProblems(const ModelConfig &c, const WeightStore &store)
{
    std::vector<std::string> problems;
    auto expect = [&](const std::string &name, std::vector<int64_t> shape) {
        if (!store.contains(name)) {
            problems.push_back("tensor '" + name + "' is missing");
            return;
        }
        const auto &actual = store.info(name).shape;
        if (actual != shape) {
            std::string a, e;
            for (auto d : actual)
                a += (a.empty() ? "" : ", ") + std::to_string(d);
            for (auto d : shape)
                e += (e.empty() ? "" : ", ") + std::to_string(d);
            problems.push_back(store.fileOf(name).path().filename().string() + ": tensor '" + name + "' has shape [" + a
                               + "], config.json implies [" + e + "]");
        }
    };
    const TensorLayout &names = c.names();
    expect(names.embedName, {c.vocabSize, c.hiddenSize});
    expect(names.finalNormName, {c.hiddenSize});
    if (!c.tieWordEmbeddings)
        expect(names.lmHeadName, {c.vocabSize, c.hiddenSize});
    for (int64_t i = 0; i < c.numLayers; ++i)
        for (const LayerTensor &t : layerTensors(c, i)) {
            if (!t.linear)
                expect(t.name + ".weight", {t.outFeatures});
            else if (store.contains(t.name + ".weight") || !store.contains(t.name + ".qweight"))
                expect(t.name + ".weight", {t.outFeatures, t.inFeatures});
        }
    return problems;
}

std::vector<std::string> tokenizerProblems(const ModelConfig &config, const Tokenizer &tokenizer, const fs::path &folder)
{
    if (tokenizer.vocabSize() <= config.vocabSize)
        return {};
    return {tokenizer.modelFile().string() + ": the tokenizer has " + std::to_string(tokenizer.vocabSize())
            + " tokens, more than config.json's vocab_size " + std::to_string(config.vocabSize)
            + " (the embeddings in " + folder.string() + " have no row for the ids above)"};
}

} // namespace awq
