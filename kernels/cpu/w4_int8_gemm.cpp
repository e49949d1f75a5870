// The int8-activation prefill path (awq/kernels/w4_int8_gemm.h): geometry, workspace layout
// and the checks before the VNNI unit runs.
#include "awq/kernels/w4_int8_gemm.h"

#include <stdexcept>
#include <string>

#include "w4_internal.h"

namespace awq::kernels {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("w4 int8 kernels: " + what); }

std::size_t roundUp64(std::size_t bytes) { return (bytes + 63) / 64 * 64; }

}  // namespace

bool w4_int8_gemm_supported(const W4Matrix& w, CpuIsa isa) {
    return isa == CpuIsa::Avx512Vnni && cpuIsaSupported(CpuIsa::Avx512Vnni) && w.group > 0 && w.group % 32 == 0 &&
           w.K % w.group == 0 && w.N % 8 == 0;
}

int w4_int8_block(int group) { return group % 128 == 0 ? 128 : group % 64 == 0 ? 64 : 32; }

std::size_t w4_int8_rows_bytes(int M, int K, int group) {
    const std::size_t rows = static_cast<std::size_t>(M);
    const std::size_t blocks = static_cast<std::size_t>(K / w4_int8_block(group));
    return roundUp64(rows * static_cast<std::size_t>(K)) + roundUp64(rows * blocks * 4) + rows * blocks * 4;
}

namespace detail {

Int8Rows int8RowsView(const void* work, int M, int K, int group) {
    Int8Rows a;
    a.K = K;
    a.block = w4_int8_block(group);
    a.blocks = K / a.block;
    const auto* base = static_cast<const unsigned char*>(work);
    const std::size_t rows = static_cast<std::size_t>(M), blocks = static_cast<std::size_t>(a.blocks);
    a.values = reinterpret_cast<const int8_t*>(base);
    a.scales = reinterpret_cast<const float*>(base + roundUp64(rows * static_cast<std::size_t>(K)));
    a.sums = reinterpret_cast<const int32_t*>(base + roundUp64(rows * static_cast<std::size_t>(K)) +
                                              roundUp64(rows * blocks * 4));
    return a;
}

}  // namespace detail

void w4_int8_quantize_rows(const float* x, int M, int K, int ldx, int group, void* work, int m0, int m1) {
    if (group <= 0 || group % 32 != 0 || K % group != 0)
        fail("group size " + std::to_string(group) + " must be a multiple of 32 dividing K=" + std::to_string(K));
    if (!cpuIsaSupported(CpuIsa::Avx512Vnni))
        fail("this CPU has no AVX-512 VNNI");
    if (reinterpret_cast<std::uintptr_t>(work) % 64 != 0)
        fail("the workspace must be 64-byte aligned");
    if (m0 < 0 || m0 > m1 || m1 > M)
        fail("row range [" + std::to_string(m0) + ", " + std::to_string(m1) + ") of M=" + std::to_string(M));
    detail::int8_quantize_rows_vnni(x, m0, m1, K, ldx, detail::int8RowsView(work, M, K, group));
}

void w4_int8_gemm(const W4Matrix& w, const void* work, int M, float* y, int ldy, int n0, int n1) {
    w4_validate(w);
    if (!w4_int8_gemm_supported(w, CpuIsa::Avx512Vnni))
        fail("the int8 path needs AVX-512 VNNI and a group size that is a multiple of 32 (K=" + std::to_string(w.K) +
             ", group=" + std::to_string(w.group) + ")");
    if (n0 < 0 || n0 > n1 || n1 > w.N || n0 % kInt8GemmChannels != 0 || (n1 % kInt8GemmChannels != 0 && n1 != w.N))
        fail("channel range [" + std::to_string(n0) + ", " + std::to_string(n1) + ") of N=" + std::to_string(w.N) +
             " must start on a multiple of " + std::to_string(kInt8GemmChannels) + " and end on one or at N");
    if (M <= 0 || n0 == n1)
        return;
    detail::int8_gemm_vnni(w, detail::int8RowsView(work, M, w.K, w.group), M, y, ldy, n0, n1);
}

}  // namespace awq::kernels
