// The tokenizer.model backend: a thin adapter from SpmModel (the dlopen()ed shim) to
// TokenizerModel. Behaviour is exactly the shim's.

#include "awq/core/error.h"
#include "spm_loader.h"
#include "tokenizer_model.h"

namespace awq {

namespace {

class SentencePieceBackend final : public TokenizerModel
{
public:
    explicit SentencePieceBackend(const std::filesystem::path &file) : m_spm(file) {}

    std::vector<int32_t> encode(const std::string &text) const override { return m_spm.encode(text); }
    std::string decode(const std::vector<int32_t> &ids) const override { return m_spm.decode(ids); }
    int32_t vocabSize() const override { return m_spm.vocabSize(); }
    std::string idToPiece(int32_t id) const override { return m_spm.idToPiece(id); }

    int32_t pieceToId(const std::string &piece) const override
    {
        // sentencepiece answers the unk id for an unknown piece.
        const int32_t id = m_spm.pieceToId(piece);
        const int32_t unk = m_spm.unkId();
        return (id == unk && (unk < 0 || piece != m_spm.idToPiece(unk))) ? -1 : id;
    }

    bool isControl(int32_t id) const override { return m_spm.isControl(id); }

    TokenizerDefaults defaults() const override
    {
        TokenizerDefaults d;
        d.bosId = m_spm.bosId();
        d.eosId = m_spm.eosId();
        d.padId = m_spm.padId();
        d.unkId = m_spm.unkId();
        d.addBos = true;
        return d;
    }

private:
    SpmModel m_spm;
};

} // namespace

std::unique_ptr<TokenizerModel> loadSentencePieceModel(const std::filesystem::path &file)
{
    return std::make_unique<SentencePieceBackend>(file);
}

} // namespace awq
