// WordPiece and Unigram, the two other models of `tokenizers` (BPE is bpe_model.cpp), and
// makeWordModel(), which picks one by model.type.

#include <algorithm>
#include <cstdio>
#include <limits>

#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "bpe_model.h"
#include "unicode_text.h"
#include "word_model.h"

namespace awq {

using nlohmann::json;

void PieceTable::add(const std::string &piece, int64_t id, const std::string &where)
{
    AWQ_CHECK(id >= 0 && id < kMaxWordModelId, Format, where, ": model.vocab['", piece, "'] has the id ", id,
              ", outside 0..", kMaxWordModelId - 1);
    const auto index = static_cast<size_t>(id);
    if (index >= m_pieces.size()) {
        m_pieces.resize(index + 1);
        m_used.resize(index + 1, false);
    }
    AWQ_CHECK(!m_used[index], Format, where, ": model.vocab gives the id ", id, " to both '", m_pieces[index], "' and '",
              piece, "'");
    AWQ_CHECK(!m_ids.count(piece), Format, where, ": model.vocab lists '", piece, "' twice");
    m_used[index] = true;
    m_pieces[index] = piece;
    m_ids.emplace(piece, static_cast<int32_t>(id));
    m_longest = std::max(m_longest, piece.size());
}

const std::string *PieceTable::piece(int32_t id) const
{
    return id >= 0 && id < idLimit() && m_used[static_cast<size_t>(id)] ? &m_pieces[static_cast<size_t>(id)] : nullptr;
}

int32_t PieceTable::id(std::string_view piece) const
{
    const auto it = m_ids.find(std::string(piece));
    return it == m_ids.end() ? -1 : it->second;
}

namespace {

size_t charLength(std::string_view text, size_t pos)
{
    size_t length = 1;
    unicode::decodeAt(text, pos, length);
    return length;
}

// WordPiece as `tokenizers` has it: greedy longest match from the start of the word, the
// pieces after the first carrying continuing_subword_prefix ("##"); a word with a part no
// piece covers, or longer than max_input_chars_per_word characters, is one unk.
class WordPieceModel final : public WordModel
{
public:
    WordPieceModel(const json &model, const std::string &where)
    {
        AWQ_CHECK(model.contains("vocab") && model["vocab"].is_object(), Format, where,
                  ": model.vocab must be an object mapping pieces to ids");
        for (const auto &[piece, value] : model["vocab"].items()) {
            AWQ_CHECK(value.is_number_integer(), Format, where, ": model.vocab['", piece, "'] is not an integer id");
            m_table.add(piece, value.get<int64_t>(), where);
        }
        const std::string unk = model.value("unk_token", std::string("[UNK]"));
        m_unkId = m_table.id(unk);
        AWQ_CHECK(m_unkId >= 0, Format, where, ": WordPiece's unk_token '", unk, "' is not in model.vocab");
        if (model.contains("continuing_subword_prefix")) {
            AWQ_CHECK(model["continuing_subword_prefix"].is_string(), Format, where,
                      ": model.continuing_subword_prefix must be a string");
            m_prefix = model["continuing_subword_prefix"].get<std::string>();
        }
        if (model.contains("max_input_chars_per_word")) {
            AWQ_CHECK(model["max_input_chars_per_word"].is_number_unsigned(), Format, where,
                      ": model.max_input_chars_per_word must be a count");
            m_maxChars = model["max_input_chars_per_word"].get<size_t>();
        }
    }

    void encodeWord(std::string_view word, std::vector<int32_t> &out) const override
    {
        size_t chars = 0;
        for (size_t pos = 0; pos < word.size(); pos += charLength(word, pos))
            ++chars;
        if (chars > m_maxChars) {
            out.push_back(m_unkId);
            return;
        }
        std::vector<int32_t> pieces;
        std::string candidate;
        for (size_t start = 0; start < word.size();) {
            int32_t found = -1;
            size_t end = word.size();
            while (start < end) {
                candidate.assign(start > 0 ? m_prefix : std::string());
                candidate.append(word.substr(start, end - start));
                found = m_table.id(candidate);
                if (found >= 0)
                    break;
                // Step back one character.
                size_t last = end - 1;
                while (last > start && (static_cast<uint8_t>(word[last]) & 0xC0) == 0x80 && end - last < 4)
                    --last;
                end = last;
            }
            if (found < 0) {
                out.push_back(m_unkId);
                return;
            }
            pieces.push_back(found);
            start = end;
        }
        out.insert(out.end(), pieces.begin(), pieces.end());
    }

    int32_t idLimit() const override { return m_table.idLimit(); }
    const std::string *piece(int32_t id) const override { return m_table.piece(id); }
    int32_t id(const std::string &piece) const override { return m_table.id(piece); }
    int32_t unkId() const override { return m_unkId; }

private:
    PieceTable m_table;
    int32_t m_unkId = -1;
    std::string m_prefix = "##";
    size_t m_maxChars = 100;
};

// Unigram as `tokenizers` has it: the Viterbi path of highest total score over the pieces
// that cover the word; a character no piece starts with is unk (scored 10 below the
// lowest piece), consecutive unks fuse into one, and with byte_fallback an unk becomes its
// <0xNN> bytes when the vocabulary has them all. Without an unk_id such a character is
// dropped (`tokenizers` refuses the text).
class UnigramModel final : public WordModel
{
public:
    UnigramModel(const json &model, const std::string &where)
    {
        AWQ_CHECK(model.contains("vocab") && model["vocab"].is_array(), Format, where,
                  ": a Unigram model.vocab must be a list of [piece, score] pairs");
        double minScore = std::numeric_limits<double>::max();
        int64_t index = 0;
        for (const auto &entry : model["vocab"]) {
            AWQ_CHECK(entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_number(), Format,
                      where, ": model.vocab[", index, "] is not a [piece, score] pair");
            m_table.add(entry[0].get<std::string>(), index++, where);
            m_scores.push_back(entry[1].get<double>());
            minScore = std::min(minScore, m_scores.back());
        }
        AWQ_CHECK(!m_scores.empty(), Format, where, ": a Unigram model.vocab is empty");
        m_unkScore = minScore - 10.0;
        if (model.contains("unk_id") && !model["unk_id"].is_null()) {
            AWQ_CHECK(model["unk_id"].is_number_unsigned() && model["unk_id"].get<uint64_t>() < m_scores.size(),
                      Format, where, ": model.unk_id must be an index into model.vocab");
            m_unkId = model["unk_id"].get<int32_t>();
        }
        m_byteFallback = model.value("byte_fallback", false);
        char name[8];
        for (int b = 0; b < 256; ++b) {
            std::snprintf(name, sizeof name, "<0x%02X>", b);
            m_byteIds[b] = m_table.id(name);
        }
    }

    void encodeWord(std::string_view word, std::vector<int32_t> &out) const override
    {
        const size_t n = word.size();
        std::vector<Node> best(n + 1);
        best[0].reached = true;
        for (size_t start = 0; start < n;) {
            const size_t charLen = charLength(word, start); // every character start is reached
            bool singleChar = false;
            const size_t longest = std::min(m_table.longestPiece(), n - start);
            for (size_t length = 1; length <= longest; ++length) {
                const int32_t id = m_table.id(word.substr(start, length));
                if (id < 0)
                    continue;
                consider(best[start + length], best[start].score + m_scores[static_cast<size_t>(id)], start, id);
                singleChar = singleChar || length == charLen;
            }
            if (!singleChar)
                consider(best[start + charLen], best[start].score + m_unkScore, start, m_unkId >= 0 ? m_unkId : -2);
            start += charLen;
        }
        // Back from the end; consecutive unks fuse into one string.
        std::vector<std::pair<size_t, size_t>> spans; // [begin, end) in reverse order
        std::vector<int32_t> ids;
        for (size_t end = n; end > 0;) {
            const Node &node = best[end];
            const bool unk = node.id == m_unkId || node.id == -2;
            if (unk && !ids.empty() && ids.back() == node.id && spans.back().first == end)
                spans.back().first = node.start;
            else {
                spans.push_back({node.start, end});
                ids.push_back(node.id);
            }
            end = node.start;
        }
        for (size_t i = ids.size(); i-- > 0;) {
            const std::string_view text = word.substr(spans[i].first, spans[i].second - spans[i].first);
            const bool unk = ids[i] == m_unkId || ids[i] == -2;
            int32_t id = unk ? m_table.id(text) : ids[i];
            if (id >= 0) {
                out.push_back(id);
                continue;
            }
            bool allBytes = m_byteFallback;
            for (char c : text)
                allBytes = allBytes && m_byteIds[static_cast<uint8_t>(c)] >= 0;
            if (allBytes) {
                for (char c : text)
                    out.push_back(m_byteIds[static_cast<uint8_t>(c)]);
            } else if (m_unkId >= 0) {
                out.push_back(m_unkId);
            }
        }
    }

    int32_t idLimit() const override { return m_table.idLimit(); }
    const std::string *piece(int32_t id) const override { return m_table.piece(id); }
    int32_t id(const std::string &piece) const override { return m_table.id(piece); }
    int32_t unkId() const override { return m_unkId; }

private:
    // The best path ending at a position: its score, where its last piece starts, that piece
    // (-2: an unknown character with no unk_id).
    struct Node {
        double score = 0;
        size_t start = 0;
        int32_t id = -1;
        bool reached = false;
    };
    static void consider(Node &target, double score, size_t start, int32_t id)
    {
        if (!target.reached || score > target.score)
            target = {score, start, id, true};
    }

    PieceTable m_table;
    std::vector<double> m_scores;
    double m_unkScore = 0;
    int32_t m_unkId = -1;
    bool m_byteFallback = false;
    int32_t m_byteIds[256];
};

} // namespace

std::unique_ptr<WordModel> makeWordModel(const json &model, const std::string &where)
{
    std::string type;
    if (model.contains("type")) {
        AWQ_CHECK(model["type"].is_string(), Format, where, ": model.type must be a string");
        type = model["type"].get<std::string>();
    } else {
        AWQ_CHECK(model.contains("merges"), Format, where, ": model.type is missing");
        type = "BPE"; // `tokenizers` recognises an untagged BPE model by its merges
    }
    if (type == "BPE")
        return std::make_unique<BpeModel>(model, where);
    if (type == "WordPiece")
        return std::make_unique<WordPieceModel>(model, where);
    if (type == "Unigram")
        return std::make_unique<UnigramModel>(model, where);
    AWQ_CHECK(type != "WordLevel", UnsupportedModel, where,
              ": a WordLevel tokenizer is not supported (this version reads BPE, WordPiece and Unigram tokenizers)");
    fail(ErrorCode::Format, where, ": model.type '", type, "' is not a tokenizer model type");
}

} // namespace awq
