#include "awq/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "awq/core/error.h"

namespace awq {

namespace fs = std::filesystem;

namespace {

// The temporary sibling of `path`, renamed over it by commit(); removed if never committed.
// Errors name `path` (the file the user asked for), not the temporary.
class AtomicWriter
{
public:
    explicit AtomicWriter(const fs::path &path) : m_path(path), m_name(path.string())
    {
        AWQ_CHECK(!path.filename().empty(), InvalidArgument, m_name, ": not a file name");
        const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
        m_temporary = folder / ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()));
        m_fd = ::open(m_temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        AWQ_CHECK(m_fd >= 0, Io, m_name, ": cannot be written (", std::strerror(errno), ")");
    }
    ~AtomicWriter()
    {
        if (m_fd >= 0)
            ::close(m_fd);
        if (!m_committed) {
            std::error_code ignored;
            fs::remove(m_temporary, ignored);
        }
    }
    AtomicWriter(const AtomicWriter &) = delete;
    AtomicWriter &operator=(const AtomicWriter &) = delete;

    void write(const char *data, size_t bytes)
    {
        while (bytes > 0) {
            const ssize_t n = ::write(m_fd, data, bytes);
            if (n < 0 && errno == EINTR)
                continue;
            AWQ_CHECK(n > 0, Io, m_name, ": write failed (", std::strerror(n < 0 ? errno : ENOSPC), ")");
            data += n;
            bytes -= static_cast<size_t>(n);
        }
    }
    void commit()
    {
        // A delayed-allocation file system may only report a full disk here.
        AWQ_CHECK(::fsync(m_fd) == 0, Io, m_name, ": write failed (", std::strerror(errno), ")");
        const int fd = m_fd;
        m_fd = -1;
        AWQ_CHECK(::close(fd) == 0, Io, m_name, ": write failed (", std::strerror(errno), ")");
        std::error_code ec;
        fs::rename(m_temporary, m_path, ec);
        AWQ_CHECK(!ec, Io, m_name, ": cannot be replaced (", ec.message(), ")");
        m_committed = true;
    }

private:
    fs::path m_path, m_temporary;
    std::string m_name;
    int m_fd = -1;
    bool m_committed = false;
};

} // namespace

void writeFileAtomically(const fs::path &path, std::string_view bytes)
{
    AtomicWriter out(path);
    out.write(bytes.data(), bytes.size());
    out.commit();
}

void copyFileAtomically(const fs::path &from, const fs::path &to)
{
    const std::string source = from.string();
    const int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    AWQ_CHECK(in >= 0, Io, source, ": cannot be read (", std::strerror(errno), ")");
    struct Close {
        int fd;
        ~Close() { ::close(fd); }
    } closeIn{in};
    struct stat st {};
    AWQ_CHECK(::fstat(in, &st) == 0 && S_ISREG(st.st_mode), Io, source, ": not a regular file");
    AtomicWriter out(to);
    std::vector<char> buffer(1 << 20);
    for (;;) {
        const ssize_t n = ::read(in, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR)
            continue;
        AWQ_CHECK(n >= 0, Io, source, ": read failed (", std::strerror(errno), ")");
        if (n == 0)
            break;
        out.write(buffer.data(), static_cast<size_t>(n));
    }
    out.commit();
}

} // namespace awq
