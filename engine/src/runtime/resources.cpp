#include "awq/runtime/resources.h"

#include <cstdlib>
#include <system_error>

namespace awq {

namespace fs = std::filesystem;

std::vector<fs::path> dataDirectories()
{
    std::vector<fs::path> dirs;
    if (const char *env = std::getenv("AWQ_STUDIO_DATA"); env && *env)
        dirs.emplace_back(env);
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec)
        dirs.push_back((exe.parent_path() / ".." / "share" / "awq-studio").lexically_normal());
    dirs.emplace_back(AWQ_INSTALL_DATADIR);
    dirs.emplace_back(AWQ_SOURCE_DIR "/resources");
    return dirs;
}

fs::path dataDirectory()
{
    std::error_code ec;
    for (const auto &dir : dataDirectories()) {
        if (fs::is_directory(dir, ec))
            return fs::absolute(dir, ec).lexically_normal();
    }
    return {};
}

fs::path findData(const fs::path &relative)
{
    std::error_code ec;
    for (const auto &dir : dataDirectories()) {
        const fs::path candidate = dir / relative;
        if (fs::exists(candidate, ec))
            return fs::absolute(candidate, ec).lexically_normal();
    }
    return {};
}

} // namespace awq
