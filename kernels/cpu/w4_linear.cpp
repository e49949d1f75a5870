// W4 kernels: validation, activation preparation, run-time ISA choice, and the portable
// scalar path (the fallback, and the shape of the arithmetic the vector paths follow).
#include "awq/kernels/w4_linear.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "awq/kernels/awq_format.h"
#include "awq/kernels/half.h"
#include "w4_internal.h"

namespace awq::kernels {

namespace detail {
namespace {
#include "w4_dequant_rows.inc"
}  // namespace

void dequantize_rows_scalar(const W4Matrix& w, int n0, int n1, float* panel, int ldp) {
    dequantizeRowsGeneric(w, n0, n1, panel, ldp);
}

void dequantize_cols_scalar(const W4Matrix& w, int n0, int n1, float* panelT, int ldp) {
    dequantizeColsGeneric(w, n0, n1, panelT, ldp);
}

// Exact per-group arithmetic: y += s * Σ (q - z) x, integer codes, float sums.
void gemv_scalar(const W4Matrix& w, const float* x, int ldx, int M, float* y, int ldy, int n0, int n1) {
    const int K = w.K, N = w.N, g = w.group, G = K / g;
    const uint32_t* qw = reinterpret_cast<const uint32_t*>(w.qweight);
    const uint32_t* qz = reinterpret_cast<const uint32_t*>(w.qzeros);
    const bool gemv = w.packing == W4Packing::Gemv;
    const int W = K / 8, NW = N / 8;
    const int ZW = gemv ? gemvZerosWidth(K, g) : 0;
    for (int n = n0; n < n1; ++n) {
        const int shiftGemm = 4 * AWQ_REVERSE_ORDER[n % 8];
        for (int m = 0; m < M; ++m) {
            const float* xr = x + static_cast<std::size_t>(m) * ldx;
            float total = 0.0f;
            for (int gi = 0; gi < G; ++gi) {
                float s;
                int z;
                if (gemv) {
                    s = half_to_float(w.scales[static_cast<std::size_t>(n) * ZW * 8 + gi]);
                    z = static_cast<int>((qz[static_cast<std::size_t>(n) * ZW + gi / 8] >> (4 * (gi % 8))) & 0xFu);
                } else {
                    s = half_to_float(w.scales[static_cast<std::size_t>(gi) * N + n]);
                    z = static_cast<int>((qz[static_cast<std::size_t>(gi) * NW + n / 8] >> shiftGemm) & 0xFu);
                }
                float acc = 0.0f;
                for (int k = gi * g; k < (gi + 1) * g; ++k) {
                    const uint32_t code = gemv ? (qw[static_cast<std::size_t>(n) * W + k / 8] >> (4 * (k % 8))) & 0xFu
                                               : (qw[static_cast<std::size_t>(k) * NW + n / 8] >> shiftGemm) & 0xFu;
                    acc += static_cast<float>(static_cast<int>(code) - z) * xr[k];
                }
                total += s * acc;
            }
            y[static_cast<std::size_t>(m) * ldy + n] = total;
        }
    }
}

Prepared preparedView(const float* work, int M, int K, int group) {
    Prepared p;
    p.W = K / 8;
    p.G = K / group;
    p.B = K % 128 == 0 ? K / 128 : 0;
    p.planes = work;
    p.wordSums = work + static_cast<std::size_t>(M) * 8 * p.W;
    p.groupSums = p.wordSums + static_cast<std::size_t>(M) * p.W;
    p.blockScales = p.groupSums + static_cast<std::size_t>(M) * p.G;
    p.fixedWordSums = p.blockScales + static_cast<std::size_t>(M) * p.B;
    p.fixedBytes = reinterpret_cast<const int8_t*>(p.fixedWordSums + static_cast<std::size_t>(M) * p.W);
    p.int8Scales = reinterpret_cast<const float*>(p.fixedBytes + static_cast<std::size_t>(M) * p.B * 256);
    p.int8WordSums = p.int8Scales + static_cast<std::size_t>(M) * p.B;
    p.int8Bytes = reinterpret_cast<const int8_t*>(p.int8WordSums + static_cast<std::size_t>(M) * p.W);
    return p;
}

}  // namespace detail

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("w4 kernels: " + what); }

bool cpuHas(CpuIsa isa) {
#if defined(__x86_64__) || defined(__i386__)
    switch (isa) {
    case CpuIsa::Scalar:
        return true;
    case CpuIsa::Avx2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    case CpuIsa::Avx512:
        return cpuHas(CpuIsa::Avx2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    case CpuIsa::Avx512Vnni:
        return cpuHas(CpuIsa::Avx512) && __builtin_cpu_supports("avx512vnni");
    }
    return false;
#else
    return isa == CpuIsa::Scalar;
#endif
}

void checkRange(const W4Matrix& w, int n0, int n1) {
    if (n0 < 0 || n1 > w.N || n0 > n1 || n0 % 8 != 0 || (n1 % 8 != 0 && n1 != w.N))
        fail("channel range [" + std::to_string(n0) + ", " + std::to_string(n1) + ") of N=" + std::to_string(w.N) +
             " must be within [0, N) and start/end on multiples of 8");
}

}  // namespace

void w4_validate(const W4Matrix& w) {
    const std::string shape = "K=" + std::to_string(w.K) + ", N=" + std::to_string(w.N) +
                              ", group=" + std::to_string(w.group);
    if (w.K <= 0 || w.N <= 0 || w.group <= 0)
        fail("sizes must be positive (" + shape + ")");
    if (w.K % w.group != 0)
        fail("in_features must be a multiple of the group size (" + shape + ")");
    if (w.N % 8 != 0 || w.K % 8 != 0)
        fail("in_features and out_features must be multiples of 8 (" + shape + ")");
    if (w.packing == W4Packing::Gemv && !(w.group == 32 || w.group == 64 || w.group >= 128))
        fail("the GEMV packing supports group sizes 32, 64 or >= 128 (" + shape + ")");
    if (!w.qweight || !w.qzeros || !w.scales)
        fail("null tensor pointer (" + shape + ")");
}

const char* cpuIsaName(CpuIsa isa) {
    switch (isa) {
    case CpuIsa::Scalar:
        return "scalar";
    case CpuIsa::Avx2:
        return "avx2";
    case CpuIsa::Avx512:
        return "avx512";
    case CpuIsa::Avx512Vnni:
        return "avx512-vnni";
    }
    return "?";
}

bool cpuIsaSupported(CpuIsa isa) {
    static const bool supported[4] = {cpuHas(CpuIsa::Scalar), cpuHas(CpuIsa::Avx2), cpuHas(CpuIsa::Avx512),
                                      cpuHas(CpuIsa::Avx512Vnni)};
    return supported[static_cast<int>(isa)];
}

CpuIsa bestCpuIsa() {
    static const CpuIsa best = [] {
        CpuIsa cap = CpuIsa::Avx512Vnni;
        if (const char* env = std::getenv("AWQ_CPU_ISA")) {
            if (!std::strcmp(env, "scalar"))
                cap = CpuIsa::Scalar;
            else if (!std::strcmp(env, "avx2"))
                cap = CpuIsa::Avx2;
            else if (!std::strcmp(env, "avx512"))
                cap = CpuIsa::Avx512;
        }
        for (int i = static_cast<int>(cap); i > 0; --i)
            if (cpuIsaSupported(static_cast<CpuIsa>(i)))
                return static_cast<CpuIsa>(i);
        return CpuIsa::Scalar;
    }();
    return best;
}

namespace {

// The step of a block of 128 activations rounded to `levels` steps each side of zero:
// max|x| / levels, and 1 for an all-zero block or one holding a non-finite value.
float blockScale(const float* xb, float levels) {
    float maxAbs = 0.0f;
    for (int k = 0; k < 128; ++k)
        maxAbs = std::max(maxAbs, std::abs(xb[k]));
    return maxAbs > 0.0f && std::isfinite(maxAbs) ? maxAbs / levels : 1.0f;
}

// Note [fixed-point activations] (see w4_avx512_vnni.cpp): per block of 128 inputs,
// v = round(x / s) with s = max|x| / 32639, split exactly as v = 256 h + l with h and l
// signed bytes, so that byte dot products with the 4-bit codes rebuild Σ q·v.
void prepareFixedPoint(const float* xr, const detail::Prepared& p, int m) {
    float* scales = const_cast<float*>(p.blockScalesOf(m));
    float* wordSums = const_cast<float*>(p.fixedWordSumsOf(m));
    int8_t* bytes = const_cast<int8_t*>(p.fixedBytesOf(m));
    for (int b = 0; b < p.B; ++b) {
        const float* xb = xr + 128 * b;
        const float s = blockScale(xb, 32639.0f);
        scales[b] = s;
        const float inv = 1.0f / s;
        int8_t* out = bytes + 256 * b;
        for (int c = 0; c < 16; ++c) {
            int sum = 0;
            for (int i = 0; i < 8; ++i) {
                const int v = static_cast<int>(std::lrint(xb[8 * c + i] * inv));
                const int h = (v + 128) >> 8, l = v - 256 * h;
                sum += v;
                const int odd = i & 1, j = i >> 1;  // k = 8c + 2j + odd
                out[128 * odd + 4 * c + j] = static_cast<int8_t>(h);
                out[128 * odd + 64 + 4 * c + j] = static_cast<int8_t>(l);
            }
            wordSums[16 * b + c] = static_cast<float>(sum) * s;
        }
    }
}

}  // namespace

std::size_t w4_prepare_floats(int M, int K, int group) {
    const std::size_t W = static_cast<std::size_t>(K / 8), G = static_cast<std::size_t>(K / group);
    const std::size_t B = K % 128 == 0 ? static_cast<std::size_t>(K / 128) : 0;
    // fixed point: scales, word sums, 256 bytes per block; int8: scales, word sums, 128 bytes per block
    const std::size_t fixed = B > 0 ? (B + W + 64 * B) + (B + W + 32 * B) : 0;
    return static_cast<std::size_t>(M) * (8 * W + W + G + fixed);
}

void w4_prepare(const float* x, int M, int K, int ldx, int group, float* work) {
    const detail::Prepared p = detail::preparedView(work, M, K, group);
#if defined(__x86_64__) || defined(__i386__)
    const bool vector = p.B > 0 && cpuIsaSupported(CpuIsa::Avx512);
#else
    const bool vector = false;
#endif
    // The int8 copy only where the VNNI kernel can read it (it needs AVX-512, so the vector
    // path below writes it): an AVX2 machine pays nothing for it.
    const bool int8Copy = p.B > 0 && cpuIsaSupported(CpuIsa::Avx512Vnni);
    for (int m = 0; m < M; ++m) {
        const float* xr = x + static_cast<std::size_t>(m) * ldx;
        float* wordSums = const_cast<float*>(p.wordSumsOf(m));
        float* groupSums = const_cast<float*>(p.groupSumsOf(m));
        if (vector) {
            detail::prepare_row_avx512(xr, p, m, true, int8Copy);
        } else {
            float* planes = const_cast<float*>(p.planesOf(m));
            for (int c = 0; c < p.W; ++c) {
                float sum = 0.0f;
                for (int i = 0; i < 8; ++i) {
                    planes[static_cast<std::size_t>(i) * p.W + c] = xr[8 * c + i];
                    sum += xr[8 * c + i];
                }
                wordSums[c] = sum;
            }
            if (p.B > 0)
                prepareFixedPoint(xr, p, m);
        }
        const int wordsPerGroup = group / 8;
        for (int gi = 0; gi < p.G; ++gi) {
            float sum = 0.0f;
            for (int c = gi * wordsPerGroup; c < (gi + 1) * wordsPerGroup; ++c)
                sum += wordSums[c];
            groupSums[gi] = sum;
        }
    }
}

bool w4_gemv_reads_int8_only(const W4Matrix& w, CpuIsa isa) {
    return isa == CpuIsa::Avx512Vnni && cpuIsaSupported(isa) && w.packing == W4Packing::Gemv && w.group == 128 &&
           w.K % 128 == 0;
}

void w4_prepare_for(const W4Matrix& w, CpuIsa isa, const float* x, int M, int ldx, float* work) {
    if (!w4_gemv_reads_int8_only(w, isa)) {
        w4_prepare(x, M, w.K, ldx, w.group, work);
        return;
    }
    const detail::Prepared p = detail::preparedView(work, M, w.K, w.group);
    for (int m = 0; m < M; ++m)
        detail::prepare_row_avx512(x + static_cast<std::size_t>(m) * ldx, p, m, false, true);
}

void w4_gemv(const W4Matrix& w, const float* x, int ldx, const float* prepared, int M, float* y, int ldy, int n0,
             int n1, CpuIsa isa) {
    checkRange(w, n0, n1);
    if (!cpuIsaSupported(isa))
        fail(std::string("this CPU cannot run the ") + cpuIsaName(isa) + " path");
    if (n0 == n1 || M <= 0)
        return;
    const detail::Prepared p = detail::preparedView(prepared, M, w.K, w.group);
    if (isa == CpuIsa::Avx512Vnni && detail::gemv_avx512_vnni(w, p, M, y, ldy, n0, n1))
        return;
    if ((isa == CpuIsa::Avx512 || isa == CpuIsa::Avx512Vnni) && detail::gemv_avx512(w, x, ldx, p, M, y, ldy, n0, n1))
        return;
    if (isa != CpuIsa::Scalar && detail::gemv_avx2(w, x, ldx, p, M, y, ldy, n0, n1))
        return;
    detail::gemv_scalar(w, x, ldx, M, y, ldy, n0, n1);
}

void w4_dequantize_rows(const W4Matrix& w, int n0, int n1, float* panel, int ldp, CpuIsa isa) {
    checkRange(w, n0, n1);
    if (!cpuIsaSupported(isa))
        fail(std::string("this CPU cannot run the ") + cpuIsaName(isa) + " path");
    if (ldp < w.K)
        fail("panel row stride " + std::to_string(ldp) + " is smaller than K=" + std::to_string(w.K));
    switch (isa) {
    case CpuIsa::Avx512:
    case CpuIsa::Avx512Vnni:
        detail::dequantize_rows_avx512(w, n0, n1, panel, ldp);
        return;
    case CpuIsa::Avx2:
        detail::dequantize_rows_avx2(w, n0, n1, panel, ldp);
        return;
    case CpuIsa::Scalar:
        detail::dequantize_rows_scalar(w, n0, n1, panel, ldp);
        return;
    }
}

void w4_dequantize_cols(const W4Matrix& w, int n0, int n1, float* panelT, int ldp, CpuIsa isa) {
    checkRange(w, n0, n1);
    if (w.packing != W4Packing::Gemm)
        fail("w4_dequantize_cols reads the GEMM packing only");
    if (!cpuIsaSupported(isa))
        fail(std::string("this CPU cannot run the ") + cpuIsaName(isa) + " path");
    if (ldp < n1 - n0)
        fail("panel row stride " + std::to_string(ldp) + " is smaller than the " + std::to_string(n1 - n0) +
             " channels");
    switch (isa) {
    case CpuIsa::Avx512:
    case CpuIsa::Avx512Vnni:
        detail::dequantize_cols_avx512(w, n0, n1, panelT, ldp);
        return;
    case CpuIsa::Avx2:
        detail::dequantize_cols_avx2(w, n0, n1, panelT, ldp);
        return;
    case CpuIsa::Scalar:
        detail::dequantize_cols_scalar(w, n0, n1, panelT, ldp);
        return;
    }
}

}  // namespace awq::kernels
