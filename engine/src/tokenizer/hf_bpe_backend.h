#pragma once
// The tokenizer.json backend: a BPE, WordPiece or Unigram model (word_model.h) inside the
// stages of hf_pipeline.h, plus the added tokens, which are cut out of the text before anything
// else (leftmost, longest first; lstrip/rstrip take the whitespace beside them,
// single_word needs non-word characters around). Covers byte-level BPE (GPT-2, Llama 3,
// Qwen, DeepSeek V3, GPT-4o), sentencepiece-style BPE with byte fallback (Llama 2, Mistral,
// Gemma 3), WordPiece (BERT-style) and Unigram models.
//
// Added tokens are matched on the raw text, also those marked "normalized" (their
// matching after normalization is not reproduced). BOS: the post-processor's
// TemplateProcessing may put one special token before the text ($A); tokens after it
// are not added (as Tokenizer::encode adds no EOS).

#include <memory>
#include <unordered_map>

#include "word_model.h"
#include "hf_pipeline.h"
#include "tokenizer_model.h"

namespace awq {

class HfBpeBackend final : public TokenizerModel
{
public:
    // Throws Error(Format) naming `file` for malformed JSON or contents, and
    // Error(UnsupportedModel) for well-formed parts this version does not implement.
    explicit HfBpeBackend(const std::filesystem::path &file);

    std::vector<int32_t> encode(const std::string &text) const override;
    std::string decode(const std::vector<int32_t> &ids) const override;
    int32_t vocabSize() const override { return m_vocabSize; }
    std::string idToPiece(int32_t id) const override;
    int32_t pieceToId(const std::string &piece) const override;
    bool isControl(int32_t id) const override;
    TokenizerDefaults defaults() const override { return m_defaults; }

private:
    struct AddedToken {
        int32_t id = -1;
        std::string content;
        bool special = false, lstrip = false, rstrip = false, singleWord = false;
    };
    struct Match {
        size_t begin, end; // with the whitespace lstrip/rstrip take
        const AddedToken *token;
    };

    void readAddedTokens(const nlohmann::json &root, const std::string &where);
    void readPostProcessor(const nlohmann::json &processor, const std::string &where);
    Match findAddedToken(const std::string &text, size_t from) const;
    void encodeSegment(const std::string &segment, bool atStart, std::vector<int32_t> &out) const;

    std::unique_ptr<WordModel> m_model;
    std::unique_ptr<HfPipeline> m_pipeline;
    std::vector<AddedToken> m_added;
    std::unordered_map<int32_t, size_t> m_addedById;
    std::unordered_map<std::string, size_t> m_addedByContent;
    std::vector<std::vector<size_t>> m_addedByFirstByte; // longest first
    int32_t m_vocabSize = 0;
    TokenizerDefaults m_defaults;
};

} // namespace awq
