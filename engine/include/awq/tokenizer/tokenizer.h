#pragma once
// Text <-> token ids for a model folder. Two backends behind one interface
// (engine/src/tokenizer/tokenizer_model.h): tokenizer.json, read by the engine itself
// (byte-level BPE as GPT-2 / Llama 3 / Qwen2 ship it, sentencepiece-style BPE with byte
// fallback as Llama 2 / Mistral / TinyLlama do), and sentencepiece tokenizer.model, which
// lives in an isolated shim library: see Note [sentencepiece isolation] in spm_loader.cpp.
// Special tokens and flags come from tokenizer_config.json.
//
// A Tokenizer is immutable after load() and may be used from several threads.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace awq {

class TokenizerModel; // the backend, see tokenizer_model.h

class Tokenizer
{
public:
    // Loads `folder`/tokenizer.json, or `folder`/tokenizer.model when there is no
    // tokenizer.json (transformers prefers tokenizer.json too), and, when present,
    // `folder`/tokenizer_config.json.
    static std::unique_ptr<Tokenizer> load(const std::filesystem::path &folder);
    // Loads a bare sentencepiece model file (BOS added by default).
    static std::unique_ptr<Tokenizer> fromSentencePieceFile(const std::filesystem::path &modelFile);
    ~Tokenizer();

    std::vector<int32_t> encode(const std::string &text, bool addBos) const;
    // Encodes with the model's default: add_bos_token from tokenizer_config.json, else for
    // tokenizer.json whether its post-processor puts a BOS first, for tokenizer.model true.
    std::vector<int32_t> encode(const std::string &text) const { return encode(text, m_addBos); }
    // Decodes ids to UTF-8 text; control tokens (BOS/EOS/PAD, special added tokens) are
    // dropped; byte-fallback and byte-level pieces are assembled into bytes. An incomplete UTF-8 sequence at the end is kept as is.
    // With clean_up_tokenization_spaces in tokenizer_config.json, " ." becomes "." and so on,
    // as transformers' decode() does.
    std::string decode(const std::vector<int32_t> &ids) const;
    std::string idToPiece(int32_t id) const;
    int32_t pieceToId(const std::string &piece) const; // -1 if unknown

    int32_t vocabSize() const;
    int32_t bosId() const { return m_bosId; }
    int32_t eosId() const { return m_eosId; }
    int32_t padId() const { return m_padId; }
    int32_t unkId() const { return m_unkId; }
    bool addBosByDefault() const { return m_addBos; }
    bool cleansUpTokenizationSpaces() const { return m_cleanUpSpaces; }
    const std::string &bosToken() const { return m_bosToken; }
    const std::string &eosToken() const { return m_eosToken; }
    const std::optional<std::string> &chatTemplate() const { return m_chatTemplate; }
    const std::filesystem::path &modelFile() const { return m_modelFile; } // tokenizer.json or .model

private:
    Tokenizer() = default;
    static std::unique_ptr<Tokenizer> fromBackend(std::unique_ptr<TokenizerModel> model,
                                                  const std::filesystem::path &file);
    void applyTokenizerConfig(const std::filesystem::path &configPath);
    std::unique_ptr<TokenizerModel> m_model;
    std::filesystem::path m_modelFile;
    int32_t m_bosId = -1, m_eosId = -1, m_padId = -1, m_unkId = -1;
    bool m_addBos = true;
    bool m_cleanUpSpaces = false;
    std::string m_bosToken, m_eosToken;
    std::optional<std::string> m_chatTemplate;
};

// Trains a sentencepiece model with the given spm_train-style arguments
// (e.g. "--input=a.txt --model_prefix=out/tok --vocab_size=512 --model_type=bpe").
// Used by the test fixtures and the demo-model trainer. Throws Error on failure.
void trainSentencePiece(const std::string &arguments);

} // namespace awq
