#pragma once
// The model of a tokenizer.json: what turns one pre-tokenized word into ids. Three kinds,
// as `tokenizers` has them: BPE (bpe_model.h), WordPiece and Unigram (word_models.cpp).
// WordLevel is refused by name.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace awq {

class WordModel
{
public:
    virtual ~WordModel() = default;
    virtual void encodeWord(std::string_view word, std::vector<int32_t> &out) const = 0;
    // One past the largest id of the vocabulary.
    virtual int32_t idLimit() const = 0;
    // The piece of `id`, or nullptr for an id the vocabulary does not use.
    virtual const std::string *piece(int32_t id) const = 0;
    virtual int32_t id(const std::string &piece) const = 0; // -1 when absent
    virtual int32_t unkId() const = 0;                       // -1 when none
};

// Reads model.type of `model` and builds the matching WordModel; throws
// Error(UnsupportedModel) for WordLevel and Error(Format) for an unknown type.
std::unique_ptr<WordModel> makeWordModel(const nlohmann::json &model, const std::string &where);

// Pieces and ids, both ways, as WordPiece and Unigram models keep them.
class PieceTable
{
public:
    // Throws Error(Format) naming `where` for an id used twice or out of range.
    void add(const std::string &piece, int64_t id, const std::string &where);
    const std::string *piece(int32_t id) const;
    int32_t id(std::string_view piece) const;
    int32_t idLimit() const { return static_cast<int32_t>(m_pieces.size()); }
    size_t longestPiece() const { return m_longest; }

private:
    std::unordered_map<std::string, int32_t> m_ids;
    std::vector<std::string> m_pieces;
    std::vector<bool> m_used;
    size_t m_longest = 0;
};

// Largest accepted token id: larger ones mean a corrupt file.
constexpr int64_t kMaxWordModelId = 1 << 24;

} // namespace awq
