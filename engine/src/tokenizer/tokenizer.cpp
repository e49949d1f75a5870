#include "awq/tokenizer/tokenizer.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/io/json_file.h"
#include "hf_pipeline.h" // cleanUpTokenizationSpaces
#include "spm_loader.h"
#include "tokenizer_model.h"

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

std::unique_ptr<Tokenizer> Tokenizer::fromBackend(std::unique_ptr<TokenizerModel> model, const fs::path &file)
{
    std::unique_ptr<Tokenizer> t(new Tokenizer());
    t->m_model = std::move(model);
    t->m_modelFile = file;
    const TokenizerDefaults d = t->m_model->defaults();
    t->m_bosId = d.bosId;
    t->m_eosId = d.eosId;
    t->m_padId = d.padId;
    t->m_unkId = d.unkId;
    t->m_addBos = d.addBos;
    if (t->m_bosId >= 0)
        t->m_bosToken = t->m_model->idToPiece(t->m_bosId);
    if (t->m_eosId >= 0)
        t->m_eosToken = t->m_model->idToPiece(t->m_eosId);
    return t;
}

std::unique_ptr<Tokenizer> Tokenizer::fromSentencePieceFile(const fs::path &modelFile)
{
    return fromBackend(loadSentencePieceModel(modelFile), modelFile);
}

std::unique_ptr<Tokenizer> Tokenizer::load(const fs::path &folder)
{
    const fs::path json = folder / "tokenizer.json";
    const fs::path model = folder / "tokenizer.model";
    std::unique_ptr<Tokenizer> t;
    if (fs::is_regular_file(json))
        t = fromBackend(loadTokenizerJson(json), json);
    else if (fs::is_regular_file(model))
        t = fromSentencePieceFile(model);
    else
        fail(ErrorCode::NotFound, model.string(), ": not found, nor tokenizer.json (the model folder needs a tokenizer)");
    const fs::path configPath = folder / "tokenizer_config.json";
    if (fs::is_regular_file(configPath))
        t->applyTokenizerConfig(configPath);
    return t;
}

void Tokenizer::applyTokenizerConfig(const fs::path &configPath)
{
    const std::string where = configPath.string();
    const nlohmann::json config = readJsonFile(configPath); // size and nesting limits (untrusted file)
    AWQ_CHECK(config.is_object(), Format, where, ": expected a JSON object");
    auto special = [&](const char *key, int32_t &id, std::string &text) {
        if (!config.contains(key))
            return;
        const std::string token = tokenText(config[key], key, where);
        if (token.empty())
            return;
        const int32_t found = m_model->pieceToId(token);
        AWQ_CHECK(found >= 0 && found != m_unkId, Format, where, ": ", key, " '", token,
                  "' is not in the vocabulary of ", m_modelFile.filename().string());
        id = found;
        text = token;
    };
    special("bos_token", m_bosId, m_bosToken);
    special("eos_token", m_eosId, m_eosToken);
    if (config.contains("add_bos_token")) {
        AWQ_CHECK(config["add_bos_token"].is_boolean(), Format, where, ": 'add_bos_token' must be true or false");
        m_addBos = config["add_bos_token"].get<bool>();
    }
    if (config.contains("clean_up_tokenization_spaces") && !config["clean_up_tokenization_spaces"].is_null()) {
        AWQ_CHECK(config["clean_up_tokenization_spaces"].is_boolean(), Format, where,
                  ": 'clean_up_tokenization_spaces' must be true or false");
        m_cleanUpSpaces = config["clean_up_tokenization_spaces"].get<bool>();
    }
    if (config.contains("chat_template") && !config["chat_template"].is_null()) {
        const auto &tmpl = config["chat_template"];
        if (tmpl.is_string()) {
            m_chatTemplate = tmpl.get<std::string>();
        } else if (tmpl.is_array()) {
            // [{"name": "default", "template": "..."}, {"name": "tool_use", ...}]
            for (const auto &entry : tmpl) {
                AWQ_CHECK(entry.is_object() && entry.contains("template") && entry["template"].is_string(), Format,
                          where, ": 'chat_template' entries need a 'template' string");
                if (!m_chatTemplate || (entry.contains("name") && entry["name"] == "default"))
                    m_chatTemplate = entry["template"].get<std::string>();
            }
        } else {
            fail(ErrorCode::Format, where, ": 'chat_template' must be a string or a list of named templates");
        }
    }
}

std::vector<int32_t> Tokenizer::encode(const std::string &text, bool addBos) const
{
    std::vector<int32_t> ids;
    if (addBos && m_bosId >= 0)
        ids.push_back(m_bosId);
    const auto body = m_model->encode(text);
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
        if (id == m_bosId || id == m_eosId || id == m_padId || m_model->isControl(id))
            continue;
        kept.push_back(id);
    }
    std::string text = m_model->decode(kept);
    return m_cleanUpSpaces ? cleanUpTokenizationSpaces(std::move(text)) : text;
}

std::string Tokenizer::idToPiece(int32_t id) const
{
    return m_model->idToPiece(id);
}

int32_t Tokenizer::pieceToId(const std::string &piece) const
{
    return m_model->pieceToId(piece);
}

int32_t Tokenizer::vocabSize() const
{
    return m_model->vocabSize();
}

void trainSentencePiece(const std::string &arguments)
{
    SpmModel::train(arguments);
}

} // namespace awq
