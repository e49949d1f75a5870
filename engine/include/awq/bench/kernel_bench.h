#pragma once
// Kernel micro-benchmark: one linear at a time, each int4 kernel (the GEMV-style kernel
// and the dequantize+BLAS panel path) in each packing and each instruction set this CPU
// runs, against the fp32 at::linear of the same shape. Reports weight GB/s (bytes of
// packed weights read per second: the figure a memory-bound decode kernel is judged by)
// and GFLOP/s.

#include <cstdint>
#include <string>
#include <vector>

#include "awq/core/cancel.h"
#include "awq/core/progress.h"
#include "awq/kernels/w4_linear.h"

namespace awq::bench {

struct KernelShape {
    std::string name; // "qkv", "o", "gate_up", "down", or "KxN"
    int64_t inFeatures = 0;
    int64_t outFeatures = 0;
};

// TinyLlama-1.1B's linears as the fused model runs them: q/k/v stacked [2048 -> 2560],
// o [2048 -> 2048], gate/up stacked [2048 -> 11264], down [5632 -> 2048].
std::vector<KernelShape> defaultKernelShapes();
// "2048x2560,5632x2048" (in x out); throws Error(InvalidArgument) naming the bad item.
std::vector<KernelShape> parseKernelShapes(const std::string &list);

struct KernelBenchOptions {
    std::vector<KernelShape> shapes = defaultKernelShapes();
    std::vector<int64_t> rows = {1, 8, 512};
    std::vector<kernels::W4Packing> packings = {kernels::W4Packing::Gemm, kernels::W4Packing::Gemv};
    std::vector<kernels::CpuIsa> isas; // empty: every one cpuIsaSupported() accepts
    int64_t groupSize = 128;
    // The GEMV-style kernel is timed up to this many rows; past it, it is compute-bound
    // by design and only the panel path is of interest.
    int64_t gemvKernelMaxRows = 64;
    int warmup = 1;
    int minRepeats = 3;       // timed calls at least ...
    int maxRepeats = 50;      // ... and at most ...
    double minSeconds = 0.2;  // ... until this much time has been spent
    int threads = 0;          // 0: leave LibTorch's setting
    uint64_t seed = 0;
    // Each timed call reads a different copy of the weights, with this many bytes of copies
    // in all (at least 8x the 32 MiB L3 of the reference machine), so that the weights come
    // from memory as they do in a model; 0 times one copy (cache-warm for small shapes).
    uint64_t coldBytes = uint64_t{256} << 20;
};

struct KernelBenchRow {
    std::string shape;
    int64_t inFeatures = 0, outFeatures = 0, rows = 0;
    std::string kernel;  // "gemv" (GEMV-style int4 kernel), "panel" (dequantize + BLAS), "fp32" (at::linear)
    std::string packing; // "gemm" | "gemv"; "" for fp32
    std::string isa;     // kernels::cpuIsaName() ("scalar", "avx2", "avx512", ...); "blas" for fp32
    uint64_t weightBytes = 0;
    double seconds = 0;  // best timed call
    int repeats = 0;     // timed calls
    double weightGBPerSecond = 0; // weightBytes / seconds / 1e9
    double gflops = 0;            // 2 * rows * in * out / seconds / 1e9
};

// Times every (shape, rows, packing, isa, kernel) and the fp32 baseline per (shape, rows).
// QuantLinear's process-wide settings (gemv row limit, ISA) and the thread count are
// restored afterwards, also on error. Polls `cancel` between timings (Error(Cancelled)).
std::vector<KernelBenchRow> runKernelBench(const KernelBenchOptions &options, const ProgressFn &progress = {},
                                           const CancelToken &cancel = {});

// A terminal table; with streamGBPerSecond > 0 a column gives weight GB/s as a share of it.
std::string formatKernelTable(const std::vector<KernelBenchRow> &rows, double streamGBPerSecond);

} // namespace awq::bench
