#pragma once
// TokenizerModel: what awq::Tokenizer needs from a tokenizer file format. Two backends:
// SentencePiece (tokenizer.model, through the isolated shim) and HfBpe (tokenizer.json,
// byte-level or sentencepiece-style BPE). Tokenizer adds BOS, drops control tokens before
// decode(), and applies tokenizer_config.json on top of the defaults() a backend reports.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace awq {

// Special tokens as the tokenizer file itself defines them (-1: none).
struct TokenizerDefaults {
    int32_t bosId = -1, eosId = -1, padId = -1, unkId = -1;
    bool addBos = true;
};

class TokenizerModel
{
public:
    virtual ~TokenizerModel() = default;

    // Text -> ids, without BOS.
    virtual std::vector<int32_t> encode(const std::string &text) const = 0;
    // Ids (all in range, control tokens already removed) -> UTF-8 text; an incomplete
    // UTF-8 sequence at the end is kept as is.
    virtual std::string decode(const std::vector<int32_t> &ids) const = 0;
    virtual int32_t vocabSize() const = 0;
    virtual std::string idToPiece(int32_t id) const = 0; // throws InvalidArgument out of range
    virtual int32_t pieceToId(const std::string &piece) const = 0; // -1 when unknown
    // Tokens decode() never shows (sentencepiece control pieces, special added tokens).
    virtual bool isControl(int32_t id) const = 0;
    virtual TokenizerDefaults defaults() const = 0;
};

// tokenizer.model through libawq_spm.so (see Note [sentencepiece isolation] in spm_loader.cpp).
std::unique_ptr<TokenizerModel> loadSentencePieceModel(const std::filesystem::path &file);
// tokenizer.json with a BPE model (see hf_bpe_backend.h).
std::unique_ptr<TokenizerModel> loadTokenizerJson(const std::filesystem::path &file);

} // namespace awq
