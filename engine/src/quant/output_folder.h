#pragma once
// A folder that appears under its final name only when complete. Files are written into
// a hidden sibling ".<name>.partial-<pid>"; commit() renames it into place (an existing
// folder, allowed only with overwrite, is replaced at that moment and not before). If the
// object is destroyed without commit() — an error, a cancel — the partial folder is removed
// and the final path is untouched. Hidden siblings left by a run that was killed (their
// process id no longer alive) are removed when the next run for the same name starts.

#include <filesystem>
#include <string>

namespace awq {

class OutputFolder
{
public:
    // Throws Error(InvalidArgument) when `finalPath` exists and overwrite is false (or it
    // is not a folder), Error(Io) when the partial folder cannot be created.
    OutputFolder(std::filesystem::path finalPath, bool overwrite);
    ~OutputFolder();
    OutputFolder(const OutputFolder &) = delete;
    OutputFolder &operator=(const OutputFolder &) = delete;

    const std::filesystem::path &path() const { return m_partial; } // where to write
    const std::filesystem::path &finalPath() const { return m_final; }
    void commit();
    // Removes the partial folder now (the destructor does the same, silently). Returns ""
    // when it is gone, else a sentence for the user naming what was left and why.
    std::string discard() noexcept;

private:
    std::filesystem::path m_final, m_partial;
    bool m_overwrite = false, m_committed = false;
};

} // namespace awq
