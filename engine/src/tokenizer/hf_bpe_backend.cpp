#include "hf_bpe_backend.h"

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/io/json_file.h"
#include "unicode_text.h"

namespace awq {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int64_t kMaxAddedId = 1 << 24; // as BpeModel's limit: larger ids mean a corrupt file

bool flag(const json &entry, const char *key, const std::string &where, size_t index)
{
    if (!entry.contains(key) || entry[key].is_null())
        return false;
    AWQ_CHECK(entry[key].is_boolean(), Format, where, ": added_tokens[", index, "].", key, " must be true or false");
    return entry[key].get<bool>();
}

// \w as the added-token matcher sees it: letters, digits and '_'.
bool isWordChar(char32_t cp)
{
    return cp == '_' || unicode::isLetter(cp) || unicode::isNumber(cp);
}

// The start of the character that ends at `pos` (pos > 0).
size_t previousCharStart(const std::string &text, size_t pos)
{
    size_t start = pos - 1;
    while (start > 0 && pos - start < 4 && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80)
        --start;
    return start;
}

char32_t charAt(const std::string &text, size_t pos, size_t &length)
{
    return unicode::decodeAt(text, pos, length);
}

} // namespace

HfBpeBackend::HfBpeBackend(const fs::path &file)
{
    const std::string where = file.string();
    AWQ_CHECK(fs::is_regular_file(file), NotFound, where, ": not found");
    // The shared reader: size and nesting limits, FIFOs refused (the file is untrusted).
    const json root = readJsonFile(file);
    AWQ_CHECK(root.is_object(), Format, where, ": expected a JSON object");
    AWQ_CHECK(root.contains("model") && root["model"].is_object(), Format, where,
              ": has no 'model' object (the tokenizer's vocabulary and merges)");
    m_model = makeWordModel(root["model"], where);
    m_pipeline = std::make_unique<HfPipeline>(root, where);
    readAddedTokens(root, where);
    m_vocabSize = m_model->idLimit();
    for (const AddedToken &t : m_added)
        m_vocabSize = std::max(m_vocabSize, t.id + 1);
    AWQ_CHECK(m_vocabSize > 0, Format, where, ": the vocabulary is empty");

    m_defaults = TokenizerDefaults{};
    m_defaults.addBos = false;
    m_defaults.unkId = m_model->unkId();
    if (root.contains("post_processor"))
        readPostProcessor(root["post_processor"], where);
    for (const char *eos : {"</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>"}) {
        const auto it = m_addedByContent.find(eos);
        if (it != m_addedByContent.end() && m_added[it->second].special) {
            m_defaults.eosId = m_added[it->second].id;
            break;
        }
    }
}

void HfBpeBackend::readAddedTokens(const json &root, const std::string &where)
{
    m_addedByFirstByte.assign(256, {});
    if (!root.contains("added_tokens") || root["added_tokens"].is_null())
        return;
    AWQ_CHECK(root["added_tokens"].is_array(), Format, where, ": added_tokens must be a list");
    size_t index = 0;
    for (const auto &entry : root["added_tokens"]) {
        AWQ_CHECK(entry.is_object() && entry.contains("id") && entry["id"].is_number_integer()
                      && entry.contains("content") && entry["content"].is_string(),
                  Format, where, ": added_tokens[", index, "] needs an integer 'id' and a string 'content'");
        AddedToken t;
        const int64_t id = entry["id"].get<int64_t>();
        AWQ_CHECK(id >= 0 && id < kMaxAddedId, Format, where, ": added_tokens[", index, "] has the id ", id,
                  ", outside 0..", kMaxAddedId - 1);
        t.id = static_cast<int32_t>(id);
        t.content = entry["content"].get<std::string>();
        AWQ_CHECK(!t.content.empty(), Format, where, ": added_tokens[", index, "] has an empty 'content'");
        t.special = flag(entry, "special", where, index);
        t.lstrip = flag(entry, "lstrip", where, index);
        t.rstrip = flag(entry, "rstrip", where, index);
        t.singleWord = flag(entry, "single_word", where, index);
        AWQ_CHECK(!m_addedById.count(t.id), Format, where, ": added_tokens gives the id ", t.id, " to both '",
                  m_added[m_addedById[t.id]].content, "' and '", t.content, "'");
        AWQ_CHECK(!m_addedByContent.count(t.content), Format, where, ": added_tokens lists '", t.content,
                  "' twice");
        m_addedById[t.id] = m_added.size();
        m_addedByContent[t.content] = m_added.size();
        m_addedByFirstByte[static_cast<uint8_t>(t.content[0])].push_back(m_added.size());
        m_added.push_back(std::move(t));
        ++index;
    }
    for (auto &bucket : m_addedByFirstByte)
        std::stable_sort(bucket.begin(), bucket.end(),
                         [&](size_t a, size_t b) { return m_added[a].content.size() > m_added[b].content.size(); });
}

void HfBpeBackend::readPostProcessor(const json &processor, const std::string &where)
{
    if (processor.is_null())
        return;
    AWQ_CHECK(processor.is_object() && processor.contains("type") && processor["type"].is_string(), Format, where,
              ": post_processor must be an object with a 'type'");
    const std::string type = processor["type"].get<std::string>();
    if (type == "Sequence") {
        AWQ_CHECK(processor.contains("processors") && processor["processors"].is_array(), Format, where,
                  ": a post_processor Sequence needs a 'processors' list");
        for (const auto &inner : processor["processors"])
            readPostProcessor(inner, where);
        return;
    }
    if (type == "ByteLevel")
        return; // only trims offsets
    if (type == "BertProcessing" || type == "RobertaProcessing") {
        // {"cls": ["[CLS]", 101], "sep": ["[SEP]", 102]}: cls goes first (the sep after the
        // text is not added, as Tokenizer::encode adds no EOS).
        AWQ_CHECK(processor.contains("cls") && processor["cls"].is_array() && processor["cls"].size() == 2
                      && processor["cls"][1].is_number_integer(),
                  Format, where, ": ", type, ".cls must be [token, id]");
        const int64_t id = processor["cls"][1].get<int64_t>();
        AWQ_CHECK(id >= 0 && id < m_vocabSize, Format, where, ": ", type, ".cls has the id ", id,
                  ", outside the vocabulary of ", m_vocabSize);
        m_defaults.bosId = static_cast<int32_t>(id);
        m_defaults.addBos = true;
        return;
    }
    AWQ_CHECK(type == "TemplateProcessing", UnsupportedModel, where, ": the post-processor '", type,
              "' is not supported (supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, "
              "Sequence)");
    AWQ_CHECK(processor.contains("single") && processor["single"].is_array(), Format, where,
              ": TemplateProcessing needs a 'single' list");
    std::vector<std::string> before; // special tokens before the text ($A)
    for (const auto &item : processor["single"]) {
        if (item.contains("Sequence"))
            break;
        AWQ_CHECK(item.contains("SpecialToken") && item["SpecialToken"].contains("id")
                      && item["SpecialToken"]["id"].is_string(),
                  Format, where, ": TemplateProcessing.single items must be SpecialToken or Sequence");
        before.push_back(item["SpecialToken"]["id"].get<std::string>());
    }
    if (before.empty())
        return;
    AWQ_CHECK(before.size() == 1, UnsupportedModel, where, ": TemplateProcessing puts ", before.size(),
              " special tokens before the text; only a single BOS is supported");
    const json &specials = processor.value("special_tokens", json::object());
    AWQ_CHECK(specials.contains(before[0]) && specials[before[0]].contains("ids")
                  && specials[before[0]]["ids"].is_array() && specials[before[0]]["ids"].size() == 1
                  && specials[before[0]]["ids"][0].is_number_integer(),
              Format, where, ": TemplateProcessing.special_tokens['", before[0], "'] needs 'ids' with one id");
    const int64_t id = specials[before[0]]["ids"][0].get<int64_t>();
    AWQ_CHECK(id >= 0 && id < m_vocabSize, Format, where, ": TemplateProcessing's '", before[0], "' has the id ", id,
              ", outside the vocabulary of ", m_vocabSize);
    m_defaults.bosId = static_cast<int32_t>(id);
    m_defaults.addBos = true;
}

HfBpeBackend::Match HfBpeBackend::findAddedToken(const std::string &text, size_t from) const
{
    for (size_t pos = from; pos < text.size(); ++pos) {
        for (size_t index : m_addedByFirstByte[static_cast<uint8_t>(text[pos])]) {
            const AddedToken &t = m_added[index];
            if (text.compare(pos, t.content.size(), t.content) != 0)
                continue;
            size_t begin = pos, end = pos + t.content.size(), length = 1;
            if (t.singleWord) {
                const bool wordBefore = pos > 0 && isWordChar(charAt(text, previousCharStart(text, pos), length));
                const bool wordAfter = end < text.size() && isWordChar(charAt(text, end, length));
                if (wordBefore || wordAfter)
                    continue;
            }
            while (t.lstrip && begin > from) {
                const size_t start = previousCharStart(text, begin);
                if (!unicode::isWhitespace(charAt(text, start, length)))
                    break;
                begin = start;
            }
            while (t.rstrip && end < text.size() && unicode::isWhitespace(charAt(text, end, length)))
                end += length;
            return {begin, end, &t};
        }
    }
    return {text.size(), text.size(), nullptr};
}

void HfBpeBackend::encodeSegment(const std::string &segment, bool atStart, std::vector<int32_t> &out) const
{
    for (const std::string &word : m_pipeline->preTokenize(m_pipeline->normalize(segment), atStart))
        m_model->encodeWord(word, out);
}

std::vector<int32_t> HfBpeBackend::encode(const std::string &text) const
{
    std::vector<int32_t> ids;
    size_t pos = 0;
    while (pos < text.size()) {
        const Match match = findAddedToken(text, pos);
        if (match.begin > pos)
            encodeSegment(text.substr(pos, match.begin - pos), pos == 0, ids);
        if (!match.token)
            break;
        ids.push_back(match.token->id);
        pos = match.end;
    }
    return ids;
}

std::string HfBpeBackend::decode(const std::vector<int32_t> &ids) const
{
    std::vector<DecodePiece> pieces;
    pieces.reserve(ids.size());
    for (int32_t id : ids) {
        const auto added = m_addedById.find(id);
        if (added != m_addedById.end())
            pieces.push_back({m_added[added->second].content, true});
        else if (const std::string *piece = m_model->piece(id))
            pieces.push_back({*piece, false});
    }
    return unicode::repairUtf8KeepingIncompleteTail(m_pipeline->decode(std::move(pieces)));
}

std::string HfBpeBackend::idToPiece(int32_t id) const
{
    AWQ_CHECK(id >= 0 && id < m_vocabSize, InvalidArgument, "token id ", id, " is outside the vocabulary of ",
              m_vocabSize);
    const auto added = m_addedById.find(id);
    if (added != m_addedById.end())
        return m_added[added->second].content;
    const std::string *piece = m_model->piece(id);
    return piece ? *piece : std::string();
}

int32_t HfBpeBackend::pieceToId(const std::string &piece) const
{
    const auto added = m_addedByContent.find(piece);
    return added != m_addedByContent.end() ? m_added[added->second].id : m_model->id(piece);
}

bool HfBpeBackend::isControl(int32_t id) const
{
    const auto added = m_addedById.find(id);
    return added != m_addedById.end() && m_added[added->second].special;
}

std::unique_ptr<TokenizerModel> loadTokenizerJson(const fs::path &file)
{
    return std::make_unique<HfBpeBackend>(file);
}

} // namespace awq
