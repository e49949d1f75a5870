#pragma once
// Writing a whole file so that nobody ever sees half of it: the bytes go to a hidden
// temporary sibling (".name.tmp-PID"), are flushed to the disk (fsync), and only then
// renamed over `path`. A full disk, a permission problem or a crash part way leaves an
// existing file at `path` as it was and no temporary behind.
//
// Every writer of a user-visible file (config.json, provenance, saved conversations,
// benchmark reports) goes through here; checkpoints use the same pattern per folder
// (quant/output_folder.h) and per shard (SafetensorsWriter).

#include <filesystem>
#include <string_view>

namespace awq {

// Throws Error(Io) naming `path` and the operating system's reason ("No space left on
// device", "Permission denied", ...). The folder must exist.
void writeFileAtomically(const std::filesystem::path &path, std::string_view bytes);
// The same for a copy of the regular file `from` (errors reading it name `from`).
void copyFileAtomically(const std::filesystem::path &from, const std::filesystem::path &to);

} // namespace awq
