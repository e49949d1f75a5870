#include "awq/io/json_file.h"

#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/io/atomic_file.h"

namespace awq {

namespace fs = std::filesystem;

nlohmann::json readJsonFile(const fs::path &path)
{
    std::error_code ec;
    AWQ_CHECK(fs::exists(path, ec), NotFound, path.string(), ": not found");
    // A FIFO or a device (a symlink to /dev/zero) would block or never end.
    AWQ_CHECK(fs::is_regular_file(path, ec), Format, path.string(), ": not a regular file");
    const uint64_t size = fs::file_size(path, ec);
    AWQ_CHECK(!ec, Io, path.string(), ": cannot read its size (", ec.message(), ")");
    AWQ_CHECK(size <= kMaxJsonFileBytes, Format, path.string(), ": ", size, " bytes is too large for a JSON file (limit ",
              kMaxJsonFileBytes, " bytes)");
    std::ifstream in(path, std::ios::binary);
    AWQ_CHECK(in, Io, path.string(), ": cannot be opened for reading");
    std::ostringstream text;
    text << in.rdbuf();
    AWQ_CHECK(!in.bad(), Io, path.string(), ": read failed");
    return parseJsonText(text.str(), path.string());
}

void writeJsonFile(const fs::path &path, const nlohmann::json &value)
{
    std::string text;
    try {
        text = value.dump(2) + "\n";
    } catch (const nlohmann::json::exception &e) { // a string that is not valid UTF-8
        fail(ErrorCode::InvalidArgument, path.string(), ": cannot be written as JSON (", e.what(), ")");
    }
    writeFileAtomically(path, text);
}

nlohmann::json parseJsonText(std::string_view text, const std::string &source, bool rejectDuplicateKeys)
{
    using json = nlohmann::json;
    // One set of keys per open object (only kept when duplicates are refused).
    std::vector<std::set<std::string>> keys;
    const json::parser_callback_t check = [&](int depth, json::parse_event_t event, json &parsed) {
        if (depth > kMaxJsonDepth)
            fail(ErrorCode::Format, source, ": JSON nests deeper than ", kMaxJsonDepth, " levels");
        if (!rejectDuplicateKeys)
            return true;
        switch (event) {
        case json::parse_event_t::object_start: keys.emplace_back(); break;
        case json::parse_event_t::object_end:
            if (!keys.empty())
                keys.pop_back();
            break;
        case json::parse_event_t::key:
            if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second)
                fail(ErrorCode::Format, source, ": key '", parsed.get<std::string>(), "' appears twice in one object");
            break;
        default: break;
        }
        return true;
    };
    try {
        return json::parse(text.data(), text.data() + text.size(), check);
    } catch (const json::exception &e) {
        fail(ErrorCode::Format, source, ": not valid JSON (", e.what(), ")");
    }
}

std::string jsonPreview(const nlohmann::json &value)
{
    constexpr size_t kMax = 80;
    bool flat = true;
    if (value.is_structured())
        for (const auto &item : value)
            flat = flat && !item.is_structured();
    std::string text;
    if (flat) {
        text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
        text = std::string(value.is_array() ? "an array of " : "an object with ") + std::to_string(value.size())
               + (value.is_array() ? " items" : " fields");
    }
    if (text.size() > kMax)
        text = text.substr(0, kMax) + "...";
    return text;
}

} // namespace awq
