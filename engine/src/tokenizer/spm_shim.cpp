// libawq_spm.so: sentencepiece behind a C interface (see spm_shim_api.h).

#include "spm_shim_api.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#define AWQ_SPM_EXPORT extern "C" __attribute__((visibility("default")))

struct awq_spm {
    sentencepiece::SentencePieceProcessor processor;
};

namespace {

char *copyString(const std::string &text)
{
    char *out = static_cast<char *>(std::malloc(text.size() + 1));
    if (out)
        std::memcpy(out, text.c_str(), text.size() + 1);
    return out;
}

void setError(char **error, const std::string &message)
{
    if (error)
        *error = copyString(message);
}

} // namespace

AWQ_SPM_EXPORT int awq_spm_abi_version(void)
{
    return AWQ_SPM_ABI_VERSION;
}

AWQ_SPM_EXPORT awq_spm *awq_spm_load(const char *path, char **error)
{
    try {
        auto *model = new awq_spm();
        const auto status = model->processor.Load(path);
        if (!status.ok()) {
            setError(error, status.ToString());
            delete model;
            return nullptr;
        }
        return model;
    } catch (const std::exception &e) {
        setError(error, e.what());
    } catch (...) {
        setError(error, "unknown error");
    }
    return nullptr;
}

AWQ_SPM_EXPORT void awq_spm_free(awq_spm *model)
{
    delete model;
}

AWQ_SPM_EXPORT void awq_spm_free_string(char *text)
{
    std::free(text);
}

AWQ_SPM_EXPORT int64_t awq_spm_encode(const awq_spm *model, const char *text, size_t length, int32_t *ids,
                                      size_t capacity)
{
    try {
        std::vector<int> out;
        if (!model->processor.Encode(std::string(text, length), &out).ok())
            return -1;
        for (size_t i = 0; i < out.size() && i < capacity; ++i)
            ids[i] = out[i];
        return static_cast<int64_t>(out.size());
    } catch (...) {
        return -1;
    }
}

AWQ_SPM_EXPORT int awq_spm_decode(const awq_spm *model, const int32_t *ids, size_t count, char **out,
                                  size_t *length)
{
    try {
        std::vector<int> in(ids, ids + count);
        std::string text;
        if (!model->processor.Decode(in, &text).ok())
            return -1;
        *out = copyString(text);
        *length = text.size();
        return *out ? 0 : -1;
    } catch (...) {
        return -1;
    }
}

AWQ_SPM_EXPORT int32_t awq_spm_vocab_size(const awq_spm *model)
{
    return model->processor.GetPieceSize();
}

AWQ_SPM_EXPORT int awq_spm_id_to_piece(const awq_spm *model, int32_t id, char **out)
{
    if (id < 0 || id >= model->processor.GetPieceSize())
        return -1;
    try {
        *out = copyString(model->processor.IdToPiece(id));
        return *out ? 0 : -1;
    } catch (...) {
        return -1;
    }
}

AWQ_SPM_EXPORT int32_t awq_spm_piece_to_id(const awq_spm *model, const char *piece)
{
    try {
        return model->processor.PieceToId(piece);
    } catch (...) {
        return model->processor.unk_id();
    }
}

AWQ_SPM_EXPORT int32_t awq_spm_bos_id(const awq_spm *model) { return model->processor.bos_id(); }
AWQ_SPM_EXPORT int32_t awq_spm_eos_id(const awq_spm *model) { return model->processor.eos_id(); }
AWQ_SPM_EXPORT int32_t awq_spm_unk_id(const awq_spm *model) { return model->processor.unk_id(); }
AWQ_SPM_EXPORT int32_t awq_spm_pad_id(const awq_spm *model) { return model->processor.pad_id(); }

AWQ_SPM_EXPORT int awq_spm_is_control(const awq_spm *model, int32_t id)
{
    return id >= 0 && id < model->processor.GetPieceSize() && model->processor.IsControl(id) ? 1 : 0;
}

AWQ_SPM_EXPORT int awq_spm_is_unknown(const awq_spm *model, int32_t id)
{
    return id >= 0 && id < model->processor.GetPieceSize() && model->processor.IsUnknown(id) ? 1 : 0;
}

AWQ_SPM_EXPORT int awq_spm_train(const char *arguments, char **error)
{
    try {
        const auto status = sentencepiece::SentencePieceTrainer::Train(arguments);
        if (!status.ok()) {
            setError(error, status.ToString());
            return -1;
        }
        return 0;
    } catch (const std::exception &e) {
        setError(error, e.what());
    } catch (...) {
        setError(error, "unknown error");
    }
    return -1;
}
