#pragma once
// Reading and writing small JSON files (config.json, provenance) with errors that name
// the file: Error(NotFound) when it is missing, Error(Io) when it cannot be read or written
// (a full disk included), Error(Format) when it is not valid JSON, is not a regular file,
// is larger than kMaxJsonFileBytes or nests deeper than kMaxJsonDepth.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace awq {

// Far above any real config, index, tokenizer or report file; a hostile file is refused
// before it is read into memory.
inline constexpr uint64_t kMaxJsonFileBytes = 512ull << 20;
// Nesting depth accepted from files: real files nest a few levels. Deeper documents are
// refused because printing or walking them recursively could exhaust the stack.
inline constexpr int kMaxJsonDepth = 128;

nlohmann::json readJsonFile(const std::filesystem::path &path);
// Pretty-printed (2 spaces) with a trailing newline, replaced atomically (io/atomic_file.h):
// a failed write leaves an existing file as it was.
void writeJsonFile(const std::filesystem::path &path, const nlohmann::json &value);

// Parses untrusted text; `source` names it in errors (Error(Format)). With
// rejectDuplicateKeys, an object holding the same key twice is an error (nlohmann
// would silently keep the last one, so two readers could see different values).
nlohmann::json parseJsonText(std::string_view text, const std::string &source, bool rejectDuplicateKeys = false);

// A short, non-recursive rendering of an untrusted value for error messages: scalars and
// flat arrays/objects as JSON (cut at 80 characters), nested ones as "an array of N items".
std::string jsonPreview(const nlohmann::json &value);

} // namespace awq
