#pragma once
// The BPE model of a tokenizer.json ("model": {"type": "BPE", ...}): a vocabulary, ranked
// merges and the unknown-character policy (byte fallback to <0xNN> pieces, an unk token,
// fused unks). It turns one pre-tokenized word into ids the way `tokenizers` does:
// start from the word's characters and apply the lowest-ranked merge, leftmost first,
// until none applies.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "word_model.h"

namespace awq {

class BpeModel final : public WordModel
{
public:
    // Reads the "model" object of `where` (a tokenizer.json); throws Error(Format) naming
    // the file for a malformed vocabulary or merges.
    BpeModel(const nlohmann::json &model, const std::string &where);

    void encodeWord(std::string_view word, std::vector<int32_t> &out) const override;

    // One past the largest id of the vocabulary.
    int32_t idLimit() const override { return static_cast<int32_t>(m_pieces.size()); }
    // The piece of `id`, or nullptr for an id the vocabulary does not use.
    const std::string *piece(int32_t id) const override;
    int32_t id(const std::string &piece) const override; // -1 when absent
    int32_t unkId() const override { return m_unkId; }
    bool byteFallback() const { return m_byteFallback; }

private:
    struct Merge {
        int32_t rank;
        int32_t result;
    };
    static uint64_t pairKey(int32_t left, int32_t right)
    {
        return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
    }
    const Merge *findMerge(int32_t left, int32_t right) const;

    std::unordered_map<std::string, int32_t> m_ids;
    std::vector<std::string> m_pieces; // by id; ids the vocabulary skips hold ""
    std::vector<bool> m_used;
    std::unordered_map<uint64_t, Merge> m_merges;
    int32_t m_byteIds[256];            // <0xNN> pieces, -1 when absent
    int32_t m_unkId = -1;
    bool m_byteFallback = false;
    bool m_fuseUnk = false;
    bool m_ignoreMerges = false;
};

} // namespace awq
