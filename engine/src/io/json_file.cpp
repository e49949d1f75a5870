#include "awq/io/json_file.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "awq/core/error.h"

namespace awq {

nlohmann::json readJsonFile(const std::filesystem::path &path)
{
    AWQ_CHECK(std::filesystem::exists(path), NotFound, path.string(), ": not found");
    std::ifstream in(path, std::ios::binary);
    AWQ_CHECK(in, Io, path.string(), ": cannot be opened for reading");
    try {
        return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception &e) {
        fail(ErrorCode::Format, path.string(), ": not valid JSON (", e.what(), ")");
    }
}

void writeJsonFile(const std::filesystem::path &path, const nlohmann::json &value)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    AWQ_CHECK(out, Io, path.string(), ": cannot be created");
    out << value.dump(2) << "\n";
    out.flush();
    AWQ_CHECK(out.good(), Io, path.string(), ": write failed (disk full?)");
}

} // namespace awq
