#pragma once
// CUDA runtime and cuBLAS calls for the CUDA decoder: status checks that throw awq::Error
// (Device, or OutOfMemory with the size asked for), and an owning device allocation.

#include <cstddef>
#include <cstdint>
#include <string>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

namespace awq::cuda {

// Throws Error(Device) "CUDA: <what>: <error>" unless err is cudaSuccess.
void check(cudaError_t err, const char *what);
void check(cublasStatus_t status, const char *what);

// One cudaMalloc'ed block; moves, never copies. Released on destruction.
class DeviceBuffer
{
public:
    DeviceBuffer() = default;
    // Allocates `bytes` (0: none); throws Error(OutOfMemory) naming `what` and the size.
    DeviceBuffer(std::size_t bytes, const std::string &what);
    DeviceBuffer(DeviceBuffer &&other) noexcept;
    DeviceBuffer &operator=(DeviceBuffer &&other) noexcept;
    DeviceBuffer(const DeviceBuffer &) = delete;
    DeviceBuffer &operator=(const DeviceBuffer &) = delete;
    ~DeviceBuffer();

    void *get() const { return m_ptr; }
    template <typename T> T *as() const { return static_cast<T *>(m_ptr); }
    std::size_t bytes() const { return m_bytes; }
    explicit operator bool() const { return m_ptr != nullptr; }

    // Copies `bytes` from host memory (synchronous; load time only).
    void upload(const void *host, std::size_t bytes, const char *what);

private:
    void *m_ptr = nullptr;
    std::size_t m_bytes = 0;
};

// Grows `buffer` to at least `bytes` (contents are not kept).
void ensureCapacity(DeviceBuffer &buffer, std::size_t bytes, const std::string &what);

} // namespace awq::cuda
