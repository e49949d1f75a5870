#pragma once
// The C interface of libawq_spm.so, the only library that links sentencepiece.
// See Note [sentencepiece isolation] in spm_loader.cpp. Plain C types only; no
// exception crosses it. Strings returned through `char **out` are malloc'ed, NUL-terminated
// and released with awq_spm_free_string; decoded text also comes with its length, since it
// may itself contain NUL bytes (a generated <0x00> byte piece).

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AWQ_SPM_ABI_VERSION 2 // 2: awq_spm_decode reports the length

typedef struct awq_spm awq_spm;

int awq_spm_abi_version(void);
// Returns NULL on failure and stores a message in *error (free it).
awq_spm *awq_spm_load(const char *path, char **error);
void awq_spm_free(awq_spm *model);
void awq_spm_free_string(char *text);
// Encodes UTF-8 text (no BOS/EOS). Returns the number of ids; writes at most `capacity`.
// Returns -1 on failure.
int64_t awq_spm_encode(const awq_spm *model, const char *text, size_t length, int32_t *ids, size_t capacity);
// Decodes ids to UTF-8 text in *out (free it), *length bytes long (NULs included). Returns 0
// on success.
int awq_spm_decode(const awq_spm *model, const int32_t *ids, size_t count, char **out, size_t *length);
int32_t awq_spm_vocab_size(const awq_spm *model);
// Returns 0 and the piece in *out (free it), or -1 for an id out of range.
int awq_spm_id_to_piece(const awq_spm *model, int32_t id, char **out);
int32_t awq_spm_piece_to_id(const awq_spm *model, const char *piece); // unk id when unknown
int32_t awq_spm_bos_id(const awq_spm *model);
int32_t awq_spm_eos_id(const awq_spm *model);
int32_t awq_spm_unk_id(const awq_spm *model);
int32_t awq_spm_pad_id(const awq_spm *model);
int awq_spm_is_control(const awq_spm *model, int32_t id);
int awq_spm_is_unknown(const awq_spm *model, int32_t id);
// Trains a model with spm_train-style arguments. Returns 0, or -1 with *error set.
int awq_spm_train(const char *arguments, char **error);

#ifdef __cplusplus
}
#endif
