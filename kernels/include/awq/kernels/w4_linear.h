#pragma once
// W4A16 CPU kernels: y = x · dequant(W)ᵀ read straight from the AutoAWQ packed tensors
// (GEMM packing [K][N/8] with the AWQ nibble order, or GEMV packing [N][K/8]); no full
// dequantized copy of W is ever made. Activations and outputs are float32.
//
// Two kernels, each for both packings:
//   w4_gemv            few rows (decode, batch <= 8): unpacks nibbles in registers and
//                      accumulates with FMAs; memory-bound by design.
//   w4_dequantize_rows many rows (prefill): dequantizes a panel of output channels into a
//                      small buffer, which the caller multiplies with BLAS.
//
// The dequantized weight is the exact product (q - z) * s (a float32 value; s is fp16),
// not rounded to fp16 as AutoAWQ's dequantize does: the difference per weight is at most
// 2^-11 relative (see docs/quality.md). Kernels are checked against a float64
// dequantize-then-matmul of the exact values.
//
// Arithmetic of w4_gemv (Note [one-plus-nibble]): a code q in 0..15 is turned into the
// float f = 1 + q/16 with two bit operations (shift the nibble to mantissa bits 19..22,
// OR in the exponent of 1.0), with no int->float conversion. Then
//   (q - z) * s = 16 s f - s (16 + z),
// so per group y += 16 s · Σ x·f - s (16 + z) · Σ x; the Σ x per 8-word (and per group)
// come from w4_prepare, computed once per call, not per output channel.
//
// Threading: the kernels are single-threaded over a range of output channels [n0, n1);
// callers split N across threads (the engine uses at::parallel_for). n0 and n1 must be
// multiples of 8 (or n1 == N).
//
// Instruction sets: chosen at run time (AVX-512 F/BW/VL/DQ, else AVX2+FMA+F16C, else a
// portable scalar path). Each is compiled in its own translation unit with its own flags.

#include <cstddef>
#include <cstdint>

namespace awq::kernels {

enum class W4Packing { Gemm, Gemv };

// A view of one packed linear (docs/awq-format.md §2). Nothing is owned.
//   Gemm: qweight int32 [K][N/8], qzeros int32 [K/g][N/8], scales fp16 [K/g][N]
//   Gemv: qweight int32 [N][K/8], qzeros int32 [N][ZW],   scales fp16 [N][ZW*8]
struct W4Matrix {
    W4Packing packing = W4Packing::Gemm;
    int K = 0;      // in_features
    int N = 0;      // out_features
    int group = 0;  // group size (K for per-channel)
    const int32_t* qweight = nullptr;
    const int32_t* qzeros = nullptr;
    const uint16_t* scales = nullptr;  // fp16 bits
};

// Throws std::invalid_argument (naming the problem) when the shapes cannot be packed:
// K, N, group > 0, K % group == 0, N % 8 == 0 and K % 8 == 0 (both kernels need both),
// GEMV packing: group in {32, 64} or >= 128; null pointers.
void w4_validate(const W4Matrix& w);

// Avx512Vnni: the AVX-512 paths, except that the GEMV packing's decode kernel (when K is a
// multiple of 128) multiplies the 4-bit codes with quantized activations through VNNI byte
// dot products instead of float FMAs: int8 per 128 inputs for group size 128, AutoAWQ's
// default (within max|x_block| / 254 per element; Note [int8 activations] in
// w4_avx512_vnni.cpp), 16-bit fixed point for other groups (within max|x_block| / 65278;
// Note [fixed-point activations]).
enum class CpuIsa { Scalar = 0, Avx2 = 1, Avx512 = 2, Avx512Vnni = 3 };
inline constexpr CpuIsa kAllCpuIsas[] = {CpuIsa::Scalar, CpuIsa::Avx2, CpuIsa::Avx512, CpuIsa::Avx512Vnni};
const char* cpuIsaName(CpuIsa isa);  // "scalar", "avx2", "avx512", "avx512-vnni"
// Whether this CPU can run the path (and this build compiled it).
bool cpuIsaSupported(CpuIsa isa);
// The best supported path; AWQ_CPU_ISA=scalar|avx2|avx512|avx512-vnni in the environment caps it.
CpuIsa bestCpuIsa();

// ---- activations, prepared once per call ----
// Workspace floats for M rows of K inputs with group size `group`.
std::size_t w4_prepare_floats(int M, int K, int group);
// Fills `work` (w4_prepare_floats(M, K, group) floats) from x [M][K] (row stride ldx):
//   planes    [M][8][K/8]  planes[m][i][c] = x[m][8c + i] (the GEMV packing's nibble planes)
//   wordSums  [M][K/8]     Σ_i x[m][8c + i]
//   groupSums [M][K/g]     Σ over each group
// and, when K % 128 == 0, the 16-bit fixed-point copy and (on a CPU with AVX-512 VNNI) the
// int8 copy that the Avx512Vnni path reads.
void w4_prepare(const float* x, int M, int K, int ldx, int group, float* work);

// The part of that workspace w4_gemv at `isa` reads for this matrix, written alone: the
// int8 copy where the VNNI kernel takes the GEMV packing with group 128 (a third of
// w4_prepare's time for one row of K = 2048, a decode step's serial work between the
// parallel kernels), everything elsewhere. `work` as for w4_prepare(x, M, w.K, ldx, w.group).
void w4_prepare_for(const W4Matrix& w, CpuIsa isa, const float* x, int M, int ldx, float* work);
bool w4_gemv_reads_int8_only(const W4Matrix& w, CpuIsa isa);

// y[m][n] for m < M, n in [n0, n1) (row stride ldy), overwritten.
// `prepared` is the workspace filled by w4_prepare for the same x.
void w4_gemv(const W4Matrix& w, const float* x, int ldx, const float* prepared, int M, float* y, int ldy, int n0,
             int n1, CpuIsa isa);

// panel[n - n0][k] = (q[n][k] - z[n][k/g]) * s[n][k/g] for n in [n0, n1), k < K
// (row stride ldp >= K), the nn.Linear layout, ready for y = x · panelᵀ.
void w4_dequantize_rows(const W4Matrix& w, int n0, int n1, float* panel, int ldp, CpuIsa isa);

// GEMM packing only: the transposed panel, panelT[k][n - n0] (row stride ldp >= n1 - n0),
// ready for y = x · panelT. Reads qweight in its storage order (see w4_dequant_rows.inc);
// QuantLinear uses it for GEMM-packed prefill.
void w4_dequantize_cols(const W4Matrix& w, int n0, int n1, float* panelT, int ldp, CpuIsa isa);

}  // namespace awq::kernels
