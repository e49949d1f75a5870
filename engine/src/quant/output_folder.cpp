#include "output_folder.h"

#include <unistd.h>

#include <system_error>

#include "awq/core/error.h"

namespace awq {

namespace fs = std::filesystem;

OutputFolder::OutputFolder(fs::path finalPath, bool overwrite) : m_final(std::move(finalPath)), m_overwrite(overwrite)
{
    AWQ_CHECK(!m_final.empty(), InvalidArgument, "no output folder given");
    if (m_final.filename().empty())
        m_final = m_final.parent_path(); // "out/" -> "out"
    std::error_code ec;
    if (fs::exists(m_final, ec)) {
        AWQ_CHECK(fs::is_directory(m_final, ec), InvalidArgument, m_final.string(),
                  ": exists and is not a folder");
        AWQ_CHECK(m_overwrite || fs::is_empty(m_final, ec), InvalidArgument, m_final.string(),
                  ": the output folder exists and is not empty (choose another, or allow overwriting)");
    }
    const fs::path parent = m_final.has_parent_path() ? m_final.parent_path() : fs::path(".");
    fs::create_directories(parent, ec);
    AWQ_CHECK(!ec && fs::is_directory(parent), Io, parent.string(), ": cannot create the folder (", ec.message(), ")");
    m_partial = parent / ("." + m_final.filename().string() + ".partial-" + std::to_string(::getpid()));
    fs::remove_all(m_partial, ec);
    fs::create_directory(m_partial, ec);
    AWQ_CHECK(!ec, Io, m_partial.string(), ": cannot create the temporary output folder (", ec.message(), ")");
}

OutputFolder::~OutputFolder()
{
    if (!m_committed) {
        std::error_code ec;
        fs::remove_all(m_partial, ec);
    }
}

void OutputFolder::commit()
{
    AWQ_ASSERT(!m_committed, "output folder committed twice");
    std::error_code ec;
    fs::path previous;
    if (fs::exists(m_final, ec)) {
        previous = m_final.parent_path() / ("." + m_final.filename().string() + ".old-" + std::to_string(::getpid()));
        fs::remove_all(previous, ec);
        fs::rename(m_final, previous, ec);
        AWQ_CHECK(!ec, Io, m_final.string(), ": cannot move the existing folder aside (", ec.message(), ")");
    }
    fs::rename(m_partial, m_final, ec);
    if (ec) {
        const std::string reason = ec.message();
        if (!previous.empty())
            fs::rename(previous, m_final, ec); // put the old folder back
        fail(ErrorCode::Io, m_final.string(), ": cannot rename the finished output into place (", reason, ")");
    }
    m_committed = true;
    if (!previous.empty())
        fs::remove_all(previous, ec);
}

} // namespace awq
