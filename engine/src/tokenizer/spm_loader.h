#pragma once
// SpmModel: one loaded sentencepiece model, reached through libawq_spm.so, which is
// dlopen'ed once per process. See Note [sentencepiece isolation] in spm_loader.cpp.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

struct awq_spm;

namespace awq {

struct SpmApi; // the resolved functions of the shim

class SpmModel
{
public:
    // Throws Error(NotFound) when the shim or the file is missing, Error(Format) when
    // sentencepiece cannot parse the file.
    explicit SpmModel(const std::filesystem::path &file);
    ~SpmModel();
    SpmModel(const SpmModel &) = delete;
    SpmModel &operator=(const SpmModel &) = delete;

    std::vector<int32_t> encode(const std::string &text) const;
    std::string decode(const std::vector<int32_t> &ids) const;
    int32_t vocabSize() const;
    std::string idToPiece(int32_t id) const;
    int32_t pieceToId(const std::string &piece) const;
    int32_t bosId() const;
    int32_t eosId() const;
    int32_t unkId() const;
    int32_t padId() const;
    bool isControl(int32_t id) const;
    bool isUnknown(int32_t id) const;

    // Runs the sentencepiece trainer (spm_train arguments).
    static void train(const std::string &arguments);

private:
    const SpmApi &m_api;
    awq_spm *m_model = nullptr;
    std::filesystem::path m_file;
};

} // namespace awq
