#include "awq/tokenizer/tokenizer.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "spm_loader.h"

namespace awq {

namespace fs = std::filesystem;

namespace {

// bos_token / eos_token are a string or an AddedToken object {"content": "..."}.
std::string tokenText(const nlohmann::json &value, const std::string &key, const std::string &where)
{
    if (value.is_string())
        return value.get<std::string>();
    if (value.is_object() && value.contains("content") && value["content"].is_string())
        return value["content"].get<std::string>();
    if (value.is_null())
        return {};
    fail(ErrorCode::Format, where, ": '", key, "' must be a string or an object with 'content'");
}

} // namespace

Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::fromSentencePieceFile(const fs::path &modelFile)
{
    std::unique_ptr<Tokenizer> t(new Tokenizer());
    t->m_spm = std::make_unique<SpmModel>(modelFile);
    t->m_modelFile = modelFile;
    t->m_bosId = t->m_spm->bosId();
    t->m_eosId = t->m_spm->eosId();
    t->m_padId = t->m_spm->padId();
    t->m_unkId = t->m_spm->unkId();
    if (t->m_bosId >= 0)
        t->m_bosToken = t->m_spm->idToPiece(t->m_bosId);
    if (t->m_eosId >= 0)
        t->m_eosToken = t->m_spm->idToPiece(t->m_eosId);
    return t;
}

std::unique_ptr<Tokenizer> Tokenizer::load(const fs::path &folder)
{
    const fs::path model = folder / "tokenizer.model";
    if (!fs::is_regular_file(model)) {
        AWQ_CHECK(!fs::is_regular_file(folder / "tokenizer.json"), UnsupportedModel, folder.string(),
                  ": only tokenizer.json is present; this version reads sentencepiece tokenizer.model files");
        fail(ErrorCode::NotFound, model.string(), ": not found (the model folder needs a tokenizer)");
    }
    auto t = fromSentencePieceFile(model);

    const fs::path configPath = folder / "tokenizer_config.json";
    if (!fs::is_regular_file(configPath))
        return t;
    const std::string where = configPath.string();
    std::ifstream in(configPath, std::ios::binary);
    AWQ_CHECK(in, Io, where, ": cannot be opened for reading");
    nlohmann::json config;
    try {
        config = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception &e) {
        fail(ErrorCode::Format, where, ": not valid JSON (", e.what(), ")");
    }
    AWQ_CHECK(config.is_object(), Format, where, ": expected a JSON object");
    auto special = [&](const char *key, int32_t &id, std::string &text) {
        if (!config.contains(key))
            return;
        const std::string token = tokenText(config[key], key, where);
        if (token.empty())
            return;
        const int32_t found = t->m_spm->pieceToId(token);
        AWQ_CHECK(found >= 0 && found != t->m_unkId, Format, where, ": ", key, " '", token,
                  "' is not in the vocabulary of ", model.filename().string());
        id = found;
        text = token;
    };
    special("bos_token", t->m_bosId, t->m_bosToken);
    special("eos_token", t->m_eosId, t->m_eosToken);
    if (config.contains("add_bos_token")) {
        AWQ_CHECK(config["add_bos_token"].is_boolean(), Format, where, ": 'add_bos_token' must be true or false");
        t->m_addBos = config["add_bos_token"].get<bool>();
    }
    if (config.contains("chat_template") && !config["chat_template"].is_null()) {
        const auto &tmpl = config["chat_template"];
        if (tmpl.is_string()) {
            t->m_chatTemplate = tmpl.get<std::string>();
        } else if (tmpl.is_array()) {
            // [{"name": "default", "template": "..."}, {"name": "tool_use", ...}]
            for (const auto &entry : tmpl) {
                AWQ_CHECK(entry.is_object() && entry.contains("template") && entry["template"].is_string(), Format,
                          where, ": 'chat_template' entries need a 'template' string");
                if (!t->m_chatTemplate || (entry.contains("name") && entry["name"] == "default"))
                    t->m_chatTemplate = entry["template"].get<std::string>();
            }
        } else {
            fail(ErrorCode::Format, where, ": 'chat_template' must be a string or a list of named templates");
        }
    }
    return t;
}

std::vector<int32_t> Tokenizer::encode(const std::string &text, bool addBos) const
{
    std::vector<int32_t> ids;
    if (addBos && m_bosId >= 0)
        ids.push_back(m_bosId);
    const auto body = m_spm->encode(text);
    ids.insert(ids.end(), body.begin(), body.end());
    return ids;
}

std::string Tokenizer::decode(const std::vector<int32_t> &ids) const
{
    std::vector<int32_t> kept;
    kept.reserve(ids.size());
    const int32_t vocab = vocabSize();
    for (int32_t id : ids) {
        AWQ_CHECK(id >= 0 && id < vocab, InvalidArgument, "token id ", id, " is outside the vocabulary of ", vocab);
        if (id == m_bosId || id == m_eosId || id == m_padId || m_spm->isControl(id))
            continue;
        kept.push_back(id);
    }
    return m_spm->decode(kept);
}

std::string Tokenizer::idToPiece(int32_t id) const
{
    return m_spm->idToPiece(id);
}

int32_t Tokenizer::pieceToId(const std::string &piece) const
{
    const int32_t id = m_spm->pieceToId(piece);
    return (id == m_unkId && piece != idToPiece(m_unkId)) ? -1 : id;
}

int32_t Tokenizer::vocabSize() const
{
    return m_spm->vocabSize();
}

void trainSentencePiece(const std::string &arguments)
{
    SpmModel::train(arguments);
}

} // namespace awq
