#pragma once
// A Hugging Face style model folder, opened once: config.json (with a legacy
// quant_config.json), every safetensors header (memory-mapped; no weight is read) and the
// tokenizer. What the quantizer, the loader and the chat model receive, with every check a
// load depends on in one place: tensor names and shapes against the config, the
// quantization_config against the tensors, the tokenizer's ids against vocab_size.
// `awq info` lists the same problems (inspectModel), and goes on where opening fails.
// Torch-free.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "awq/model/config.h"

namespace awq {

class Tokenizer;
class WeightStore;

class ModelFolder
{
public:
    // Throws Error naming the file when the folder, its config.json, a safetensors file or
    // the tokenizer cannot be opened or parsed.
    static ModelFolder open(const std::filesystem::path &folder);
    ModelFolder(ModelFolder &&) noexcept;
    ModelFolder &operator=(ModelFolder &&) noexcept;
    ~ModelFolder();

    const std::filesystem::path &path() const { return m_path; }
    std::filesystem::path configFile() const { return m_path / "config.json"; }
    const ModelConfig &config() const { return m_config; }
    const WeightStore &weights() const { return *m_weights; }
    // Shared so that a loaded model can keep it after the folder object is gone.
    const std::shared_ptr<const Tokenizer> &tokenizer() const { return m_tokenizer; }

    // Every problem a load would hit, one sentence each naming the file, the tensor and
    // both values; empty when the folder is loadable.
    std::vector<std::string> problems() const;
    // Throws Error(Format) with the first problem (and how many more there are).
    void requireLoadable() const;

private:
    ModelFolder() = default;
    std::filesystem::path m_path;
    ModelConfig m_config;
    std::unique_ptr<WeightStore> m_weights;
    std::shared_ptr<const Tokenizer> m_tokenizer;
};

// Picks the description's tensor layout that the checkpoint uses (the first whose
// embeddings it holds: gemma3's multimodal folders come in two); the first when none does,
// and tensorProblems then names what is missing.
void matchTensorLayout(ModelConfig &config, const WeightStore &store);

// Tensors the config implies that are missing or of another shape (full-precision
// linears, norms, embeddings, lm_head; packed linears are quantizationProblems' business).
std::vector<std::string> tensorProblems(const ModelConfig &config, const WeightStore &store);

// The tokenizer's ids must fit the embedding table: a problem naming the tokenizer file, or
// empty.
std::vector<std::string> tokenizerProblems(const ModelConfig &config, const Tokenizer &tokenizer,
                                           const std::filesystem::path &folder);

} // namespace awq
