#pragma once
// The readers under fuzz take a path: each input is written to an anonymous in-memory
// file (memfd) and handed over as /proc/self/fd/N, a regular file that never touches disk.

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

class FuzzInputFile
{
public:
    FuzzInputFile(const uint8_t *data, size_t size, const char *name)
    {
        m_fd = ::memfd_create(name, MFD_CLOEXEC);
        if (m_fd < 0)
            std::abort();
        size_t written = 0;
        while (written < size) {
            const ssize_t n = ::write(m_fd, data + written, size - written);
            if (n <= 0)
                std::abort();
            written += static_cast<size_t>(n);
        }
        m_path = "/proc/self/fd/" + std::to_string(m_fd);
    }
    ~FuzzInputFile() { ::close(m_fd); }
    FuzzInputFile(const FuzzInputFile &) = delete;
    FuzzInputFile &operator=(const FuzzInputFile &) = delete;

    const std::string &path() const { return m_path; }

private:
    int m_fd = -1;
    std::string m_path;
};
