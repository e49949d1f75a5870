#include "bpe_model.h"

#include <cstdio>
#include <queue>

#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "unicode_text.h"

namespace awq {

namespace {

// Ids above this are taken for a corrupt file rather than a vocabulary (the largest real
// ones are a few hundred thousand).
constexpr int64_t kMaxTokenId = 1 << 24;

std::string optionalString(const nlohmann::json &model, const char *key, const std::string &where)
{
    if (!model.contains(key) || model[key].is_null())
        return {};
    AWQ_CHECK(model[key].is_string(), Format, where, ": model.", key, " must be a string or null");
    return model[key].get<std::string>();
}

bool optionalBool(const nlohmann::json &model, const char *key, const std::string &where)
{
    if (!model.contains(key) || model[key].is_null())
        return false;
    AWQ_CHECK(model[key].is_boolean(), Format, where, ": model.", key, " must be true or false");
    return model[key].get<bool>();
}

} // namespace

BpeModel::BpeModel(const nlohmann::json &model, const std::string &where)
{
    AWQ_CHECK(model.contains("vocab") && model["vocab"].is_object(), Format, where,
              ": model.vocab must be an object mapping pieces to ids");
    const auto &vocab = model["vocab"];
    m_ids.reserve(vocab.size());
    for (const auto &[piece, value] : vocab.items()) {
        AWQ_CHECK(value.is_number_integer(), Format, where, ": model.vocab['", piece, "'] is not an integer id");
        const int64_t id = value.get<int64_t>();
        AWQ_CHECK(id >= 0 && id < kMaxTokenId, Format, where, ": model.vocab['", piece, "'] has the id ", id,
                  ", outside 0..", kMaxTokenId - 1);
        if (static_cast<size_t>(id) >= m_pieces.size()) {
            m_pieces.resize(static_cast<size_t>(id) + 1);
            m_used.resize(static_cast<size_t>(id) + 1, false);
        }
        AWQ_CHECK(!m_used[static_cast<size_t>(id)], Format, where, ": model.vocab gives the id ", id, " to both '",
                  m_pieces[static_cast<size_t>(id)], "' and '", piece, "'");
        m_used[static_cast<size_t>(id)] = true;
        m_pieces[static_cast<size_t>(id)] = piece;
        m_ids.emplace(piece, static_cast<int32_t>(id));
    }

    const std::string prefix = optionalString(model, "continuing_subword_prefix", where);
    const std::string suffix = optionalString(model, "end_of_word_suffix", where);
    AWQ_CHECK(prefix.empty() && suffix.empty(), UnsupportedModel, where,
              ": BPE with a continuing_subword_prefix or end_of_word_suffix is not supported");
    m_byteFallback = optionalBool(model, "byte_fallback", where);
    m_fuseUnk = optionalBool(model, "fuse_unk", where);
    m_ignoreMerges = optionalBool(model, "ignore_merges", where);
    const std::string unk = optionalString(model, "unk_token", where);
    if (!unk.empty()) {
        m_unkId = id(unk);
        AWQ_CHECK(m_unkId >= 0, Format, where, ": model.unk_token '", unk, "' is not in model.vocab");
    }
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        m_byteIds[b] = id(name);
    }

    // "merges": ["a b", ...] (tokenizers < 0.20) or [["a", "b"], ...]; the rank is the position.
    AWQ_CHECK(!model.contains("merges") || model["merges"].is_array(), Format, where, ": model.merges must be a list");
    const nlohmann::json empty = nlohmann::json::array();
    const auto &merges = model.contains("merges") ? model["merges"] : empty;
    m_merges.reserve(merges.size());
    int32_t rank = 0;
    for (const auto &entry : merges) {
        std::string left, right;
        if (entry.is_string()) {
            const std::string text = entry.get<std::string>();
            const size_t space = text.find(' ');
            AWQ_CHECK(space != std::string::npos && text.find(' ', space + 1) == std::string::npos, Format, where,
                      ": model.merges[", rank, "] '", text, "' is not two pieces separated by one space");
            left = text.substr(0, space);
            right = text.substr(space + 1);
        } else {
            AWQ_CHECK(entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_string(), Format,
                      where, ": model.merges[", rank, "] must be \"a b\" or [\"a\", \"b\"]");
            left = entry[0].get<std::string>();
            right = entry[1].get<std::string>();
        }
        const int32_t leftId = id(left), rightId = id(right), resultId = id(left + right);
        for (const auto &[name, found] : {std::pair{left, leftId}, {right, rightId}, {left + right, resultId}})
            AWQ_CHECK(found >= 0, Format, where, ": model.merges[", rank, "] (", left, " + ", right, ") uses '", name,
                      "', which is not in model.vocab");
        m_merges.emplace(pairKey(leftId, rightId), Merge{rank, resultId}); // the first (lowest) rank wins
        ++rank;
    }
}

const std::string *BpeModel::piece(int32_t id) const
{
    if (id < 0 || id >= idLimit() || !m_used[static_cast<size_t>(id)])
        return nullptr;
    return &m_pieces[static_cast<size_t>(id)];
}

int32_t BpeModel::id(const std::string &piece) const
{
    const auto it = m_ids.find(piece);
    return it == m_ids.end() ? -1 : it->second;
}

const BpeModel::Merge *BpeModel::findMerge(int32_t left, int32_t right) const
{
    const auto it = m_merges.find(pairKey(left, right));
    return it == m_merges.end() ? nullptr : &it->second;
}

void BpeModel::encodeWord(std::string_view word, std::vector<int32_t> &out) const
{
    if (word.empty())
        return;
    if (m_ignoreMerges) {
        const auto it = m_ids.find(std::string(word));
        if (it != m_ids.end()) {
            out.push_back(it->second);
            return;
        }
    }
    // The word's characters as symbols in a linked list.
    struct Symbol {
        int32_t id;
        int prev, next;
        bool alive;
    };
    std::vector<Symbol> symbols;
    symbols.reserve(word.size());
    auto push = [&](int32_t id) {
        const int index = static_cast<int>(symbols.size());
        symbols.push_back({id, index - 1, index + 1, true});
    };
    bool lastWasUnk = false;
    for (size_t pos = 0; pos < word.size();) {
        size_t length = 1;
        unicode::decodeAt(word, pos, length);
        const auto it = m_ids.find(std::string(word.substr(pos, length)));
        bool unknown = false;
        if (it != m_ids.end()) {
            push(it->second);
        } else {
            bool allBytes = m_byteFallback;
            for (size_t i = 0; allBytes && i < length; ++i)
                allBytes = m_byteIds[static_cast<uint8_t>(word[pos + i])] >= 0;
            if (allBytes) {
                for (size_t i = 0; i < length; ++i)
                    push(m_byteIds[static_cast<uint8_t>(word[pos + i])]);
            } else if (m_unkId >= 0) {
                unknown = true;
                if (!(m_fuseUnk && lastWasUnk))
                    push(m_unkId);
            } // no unk token: the character is dropped, as `tokenizers` does
        }
        lastWasUnk = unknown;
        pos += length;
    }
    if (symbols.empty())
        return;
    symbols.back().next = -1;

    // Candidate merges ordered by rank, then position; stale ones are skipped when popped.
    struct Candidate {
        int32_t rank;
        int pos;
        int32_t result;
        bool operator>(const Candidate &o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
    auto consider = [&](int left) {
        if (left < 0 || symbols[left].next < 0)
            return;
        if (const Merge *m = findMerge(symbols[left].id, symbols[symbols[left].next].id))
            queue.push({m->rank, left, m->result});
    };
    for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i)
        consider(i);
    while (!queue.empty()) {
        const Candidate top = queue.top();
        queue.pop();
        Symbol &left = symbols[top.pos];
        if (!left.alive || left.next < 0)
            continue;
        const Merge *current = findMerge(left.id, symbols[left.next].id);
        if (!current || current->result != top.result)
            continue;
        Symbol &right = symbols[left.next];
        left.id = top.result;
        right.alive = false;
        left.next = right.next;
        if (left.next >= 0)
            symbols[left.next].prev = top.pos;
        consider(left.prev);
        consider(top.pos);
    }
    for (int i = 0; i >= 0; i = symbols[i].next)
        out.push_back(symbols[i].id);
}

} // namespace awq
