#include "output_folder.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include <system_error>

#include "awq/core/error.h"

namespace awq {

namespace fs = std::filesystem;

namespace {

// Siblings left by a run that was killed (power loss, SIGKILL, a crash), recognised by a
// process id that is no longer alive: ".NAME.partial-PID" is removed; ".NAME.old-PID", the
// earlier output moved aside for the swap, goes back to NAME if the run died before the new
// folder took its place, and is removed otherwise.
void clearLeftoversOfDeadRuns(const fs::path &parent, const fs::path &final)
{
    const std::string name = final.filename().string();
    const auto deadRunsEntry = [&](const std::string &entry, const std::string &prefix) {
        if (entry.size() <= prefix.size() || entry.compare(0, prefix.size(), prefix) != 0)
            return false;
        const std::string digits = entry.substr(prefix.size());
        if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
            return false;
        const pid_t pid = static_cast<pid_t>(std::stol(digits));
        return pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH;
    };
    std::vector<fs::path> partials, olds;
    std::error_code ec;
    fs::directory_iterator it(parent, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
        const std::string entry = it->path().filename().string();
        if (deadRunsEntry(entry, "." + name + ".partial-"))
            partials.push_back(it->path());
        else if (deadRunsEntry(entry, "." + name + ".old-"))
            olds.push_back(it->path());
    }
    std::error_code ignored;
    for (const auto &p : partials)
        fs::remove_all(p, ignored);
    for (const auto &p : olds) {
        if (!fs::exists(final, ignored))
            fs::rename(p, final, ignored);
        else
            fs::remove_all(p, ignored);
    }
}

} // namespace

OutputFolder::OutputFolder(fs::path finalPath, bool overwrite) : m_final(std::move(finalPath)), m_overwrite(overwrite)
{
    AWQ_CHECK(!m_final.empty(), InvalidArgument, "no output folder given");
    if (m_final.filename().empty())
        m_final = m_final.parent_path(); // "out/" -> "out"
    std::error_code ec;
    const fs::path parent = m_final.has_parent_path() ? m_final.parent_path() : fs::path(".");
    if (fs::is_directory(parent, ec))
        clearLeftoversOfDeadRuns(parent, m_final); // may put back an earlier output: checked next
    if (fs::exists(m_final, ec)) {
        AWQ_CHECK(fs::is_directory(m_final, ec), InvalidArgument, m_final.string(),
                  ": exists and is not a folder");
        AWQ_CHECK(m_overwrite || fs::is_empty(m_final, ec), InvalidArgument, m_final.string(),
                  ": the output folder exists and is not empty (choose another, or allow overwriting)");
    }
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

std::string OutputFolder::discard() noexcept
{
    if (m_committed)
        return {};
    std::error_code ec;
    fs::remove_all(m_partial, ec);
    if (!ec && !fs::exists(m_partial, ec))
        return {};
    try {
        return "the incomplete output " + m_partial.string() + " could not be removed (" + ec.message()
               + "); delete it by hand";
    } catch (...) {
        return "the incomplete output could not be removed";
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
