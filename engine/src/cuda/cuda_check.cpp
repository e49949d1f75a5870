#include "cuda_check.h"

#include <utility>

#include "awq/core/error.h"

namespace awq::cuda {

namespace {

const char *cublasName(cublasStatus_t status)
{
    switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED: return "allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "invalid value";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "architecture mismatch";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "execution failed";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "not supported";
    default: return "error";
    }
}

} // namespace

void check(cudaError_t err, const char *what)
{
    if (err == cudaSuccess)
        return;
    cudaGetLastError(); // clear a sticky launch error so that the next call reports its own
    if (err == cudaErrorMemoryAllocation)
        fail(ErrorCode::OutOfMemory, "CUDA: ", what, ": out of GPU memory");
    fail(ErrorCode::Device, "CUDA: ", what, ": ", cudaGetErrorString(err));
}

void check(cublasStatus_t status, const char *what)
{
    if (status != CUBLAS_STATUS_SUCCESS)
        fail(ErrorCode::Device, "cuBLAS: ", what, ": ", cublasName(status), " (status ", static_cast<int>(status), ")");
}

DeviceBuffer::DeviceBuffer(std::size_t bytes, const std::string &what) : m_bytes(bytes)
{
    if (bytes == 0)
        return;
    const cudaError_t err = cudaMalloc(&m_ptr, bytes);
    if (err != cudaSuccess) {
        m_ptr = nullptr;
        m_bytes = 0;
        cudaGetLastError();
        size_t free = 0, total = 0;
        cudaMemGetInfo(&free, &total);
        fail(err == cudaErrorMemoryAllocation ? ErrorCode::OutOfMemory : ErrorCode::Device, "CUDA: allocating ",
             static_cast<double>(bytes) / (1024.0 * 1024.0), " MiB for ", what, " failed (",
             static_cast<double>(free) / (1024.0 * 1024.0 * 1024.0), " GiB free of ",
             static_cast<double>(total) / (1024.0 * 1024.0 * 1024.0), " GiB): ", cudaGetErrorString(err));
    }
}

DeviceBuffer::DeviceBuffer(DeviceBuffer &&other) noexcept
    : m_ptr(std::exchange(other.m_ptr, nullptr)), m_bytes(std::exchange(other.m_bytes, 0))
{
}

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&other) noexcept
{
    if (this != &other) {
        if (m_ptr)
            cudaFree(m_ptr);
        m_ptr = std::exchange(other.m_ptr, nullptr);
        m_bytes = std::exchange(other.m_bytes, 0);
    }
    return *this;
}

DeviceBuffer::~DeviceBuffer()
{
    if (m_ptr)
        cudaFree(m_ptr);
}

void DeviceBuffer::upload(const void *host, std::size_t bytes, const char *what)
{
    AWQ_ASSERT(bytes <= m_bytes, "upload of ", bytes, " bytes into ", m_bytes);
    check(cudaMemcpy(m_ptr, host, bytes, cudaMemcpyHostToDevice), what);
}

void ensureCapacity(DeviceBuffer &buffer, std::size_t bytes, const std::string &what)
{
    if (buffer.bytes() >= bytes)
        return;
    buffer = DeviceBuffer(); // free first: old and new may not fit together
    buffer = DeviceBuffer(bytes, what);
}

} // namespace awq::cuda
