#pragma once
// Reading and writing small JSON files (config.json, provenance) with errors that name
// the file: Error(NotFound) when it is missing, Error(Io) when it cannot be read or written
// (a full disk included), Error(Format) when it is not valid JSON.

#include <filesystem>

#include <nlohmann/json_fwd.hpp>

namespace awq {

nlohmann::json readJsonFile(const std::filesystem::path &path);
// Pretty-printed (2 spaces) with a trailing newline.
void writeJsonFile(const std::filesystem::path &path, const nlohmann::json &value);

} // namespace awq
