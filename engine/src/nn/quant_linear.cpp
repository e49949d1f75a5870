#include "awq/nn/quant_linear.h"

#include <algorithm>
#include <cstdlib>
#include <atomic>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "awq/core/error.h"
#include "awq/kernels/awq_format.h"
#include "awq/kernels/awq_unpack.h"
#include "awq/kernels/w4_int8_gemm.h"
#include "huge_pages.h"

namespace awq {

namespace {

std::atomic<int64_t> g_gemvMaxRows{-1}; // -1: QuantLinear::gemvRowLimit() decides
std::atomic<int> g_isa{-1}; // -1: the best the CPU has
// Many rows on int8 activations where the CPU has VNNI (the default since issue 26 measured it:
// prefill-512 3.9x the dequantize + BLAS path on TinyLlama, demo perplexity +0.012 %,
// docs/benchmarks.md); AWQ_CPU_PREFILL=float in the environment, or setInt8Prefill(false),
// keeps dequantize + BLAS.
std::atomic<bool> g_int8Prefill{[] {
    const char *env = std::getenv("AWQ_CPU_PREFILL");
    return !(env && std::string(env) == "float");
}()};

// Channels per parallel task: one AVX-512 GEMM-packing block (16 words), enough work per
// task to hide the scheduling cost, and N / 128 tasks keep two to a few dozen threads busy.
constexpr int64_t kChannelsPerTask = 128;

// Panel rows for the dequantize+BLAS path: ~64 MiB of float32 per panel, a multiple of 8.
// BLAS packs x again for every call. Measured on TinyLlama prefill-512 (docs/benchmarks.md):
// 1 MiB panels (88 calls for gate/up) spent a quarter of the time re-packing; 16 MiB panels
// (one to six calls per linear) reached 0.82-0.86x of FP32 once BLAS ran on OpenMP threads,
// 64 MiB panels (one or two calls) 0.97-0.98x.
int64_t panelRows(int64_t K, int64_t N)
{
    const int64_t rows = std::max<int64_t>(64, (int64_t{1} << 24) / std::max<int64_t>(K, 1)) / 8 * 8;
    return std::min(rows, N);
}

// The panel buffer, reused across calls and layers (one per thread that runs linears):
// a fresh allocation per call cost page faults on every prefill.
float *panelScratch(size_t floats)
{
    thread_local std::vector<float> scratch;
    if (scratch.size() < floats)
        scratch.resize(floats);
    return scratch.data();
}

// The int8 path's quantized activations, 64-byte aligned, reused like the panel.
void *int8Scratch(size_t bytes)
{
    thread_local std::vector<unsigned char> scratch;
    if (scratch.size() < bytes + 64)
        scratch.resize(bytes + 64);
    const auto address = reinterpret_cast<uintptr_t>(scratch.data());
    return scratch.data() + (64 - address % 64) % 64;
}

void checkPacked(const at::Tensor &t, const char *name, at::ScalarType dtype, std::vector<int64_t> shape)
{
    AWQ_CHECK(t.defined() && t.device().is_cpu(), Format, "QuantLinear: ", name, " must be a CPU tensor");
    AWQ_CHECK(t.scalar_type() == dtype, Format, "QuantLinear: ", name, " is ", c10::toString(t.scalar_type()),
              ", expected ", c10::toString(dtype));
    AWQ_CHECK(t.sizes() == at::IntArrayRef(shape), Format, "QuantLinear: ", name, " has shape ", t.sizes(),
              ", expected ", at::IntArrayRef(shape));
}

} // namespace

QuantLinear::QuantLinear(kernels::W4Packing packing, int64_t inFeatures, int64_t outFeatures, int64_t groupSize,
                         at::Tensor qweight, at::Tensor qzeros, at::Tensor scales, at::Tensor bias)
    : m_qweight(hugePageCopy(qweight)), m_qzeros(qzeros.contiguous()), m_scales(scales.contiguous()),
      m_bias(bias.defined() ? bias.to(at::kFloat).contiguous() : bias)
{
    const int64_t K = inFeatures, N = outFeatures, g = groupSize <= 0 ? inFeatures : groupSize;
    m_matrix.packing = packing;
    m_matrix.K = static_cast<int>(K);
    m_matrix.N = static_cast<int>(N);
    m_matrix.group = static_cast<int>(g);
    m_matrix.qweight = m_qweight.defined() ? m_qweight.data_ptr<int32_t>() : nullptr;
    m_matrix.qzeros = m_qzeros.defined() ? m_qzeros.data_ptr<int32_t>() : nullptr;
    m_matrix.scales = m_scales.defined() ? reinterpret_cast<const uint16_t *>(m_scales.data_ptr<at::Half>()) : nullptr;
    try {
        kernels::w4_validate(m_matrix);
    } catch (const std::invalid_argument &e) {
        fail(ErrorCode::Format, "QuantLinear [", K, " -> ", N, "]: ", e.what());
    }
    if (packing == kernels::W4Packing::Gemm) {
        checkPacked(m_qweight, "qweight", at::kInt, {K, N / 8});
        checkPacked(m_qzeros, "qzeros", at::kInt, {K / g, N / 8});
        checkPacked(m_scales, "scales", at::kHalf, {K / g, N});
    } else {
        const int64_t zw = kernels::gemvZerosWidth(static_cast<int>(K), static_cast<int>(g));
        checkPacked(m_qweight, "qweight", at::kInt, {N, K / 8});
        checkPacked(m_qzeros, "qzeros", at::kInt, {N, zw});
        checkPacked(m_scales, "scales", at::kHalf, {N, zw * 8});
    }
    if (m_bias.defined())
        AWQ_CHECK(m_bias.dim() == 1 && m_bias.size(0) == N, Format, "QuantLinear: bias has shape ", m_bias.sizes(),
                  ", expected [", N, "]");
}

int64_t QuantLinear::gemvMaxRows() { return g_gemvMaxRows.load(); }
void QuantLinear::setGemvMaxRows(int64_t rows) { g_gemvMaxRows.store(std::max<int64_t>(-1, rows)); }

int64_t QuantLinear::gemvRowLimit() const
{
    const int64_t forced = gemvMaxRows();
    if (forced >= 0)
        return forced;
    // Measured crossovers (awq bench --kernels, docs/benchmarks.md): the VNNI GEMV kernel
    // beats dequantize+BLAS up to 16-32 rows; the float kernels up to about 8.
    const bool vnni = m_matrix.packing == kernels::W4Packing::Gemv && isa() == kernels::CpuIsa::Avx512Vnni &&
                      m_matrix.K % 128 == 0;
    return vnni ? 16 : 8;
}

bool QuantLinear::int8Prefill() { return g_int8Prefill.load(); }
void QuantLinear::setInt8Prefill(bool on) { g_int8Prefill.store(on); }

bool QuantLinear::usesInt8Prefill() const
{
    return int8Prefill() && kernels::w4_int8_gemm_supported(m_matrix, isa());
}

kernels::CpuIsa QuantLinear::isa()
{
    const int isa = g_isa.load();
    return isa < 0 ? kernels::bestCpuIsa() : static_cast<kernels::CpuIsa>(isa);
}

void QuantLinear::setIsa(kernels::CpuIsa isa)
{
    AWQ_CHECK(kernels::cpuIsaSupported(isa), InvalidArgument, "this CPU cannot run the ", kernels::cpuIsaName(isa),
              " kernels");
    g_isa.store(static_cast<int>(isa));
}

at::Tensor QuantLinear::forward(const at::Tensor &x) const { return forwardRows(*this, x); }

void QuantLinear::forwardInto(const at::Tensor &x, at::Tensor &y) const
{
    AWQ_ASSERT(x.dim() == 2 && x.size(1) == m_matrix.K && x.is_contiguous() && x.scalar_type() == at::kFloat,
               "QuantLinear::forwardInto: x ", x.sizes());
    AWQ_ASSERT(y.dim() == 2 && y.size(0) == x.size(0) && y.size(1) == m_matrix.N && y.is_contiguous() &&
                   y.scalar_type() == at::kFloat,
               "QuantLinear::forwardInto: y ", y.sizes());
    const int64_t rows = x.size(0);
    if (rows == 0)
        return;
    if (rows <= gemvRowLimit())
        runGemv(x.data_ptr<float>(), rows, y.data_ptr<float>());
    else if (usesInt8Prefill())
        runInt8(x.data_ptr<float>(), rows, y.data_ptr<float>());
    else
        runPanels(x, y);
    if (m_bias.defined())
        y.add_(m_bias);
}

void QuantLinear::runGemv(const float *x, int64_t rows, float *y) const
{
    const int M = static_cast<int>(rows), K = m_matrix.K, N = m_matrix.N;
    const size_t need = kernels::w4_prepare_floats(M, K, m_matrix.group);
    if (m_work.size() < need)
        m_work.resize(need);
    const kernels::CpuIsa cpu = isa();
    kernels::w4_prepare_for(m_matrix, cpu, x, M, K, m_work.data());
    const float *work = m_work.data();
    const int64_t tasks = (N + kChannelsPerTask - 1) / kChannelsPerTask;
    at::parallel_for(0, tasks, 1, [&](int64_t t0, int64_t t1) {
        const int n0 = static_cast<int>(t0 * kChannelsPerTask);
        const int n1 = static_cast<int>(std::min<int64_t>(N, t1 * kChannelsPerTask));
        kernels::w4_gemv(m_matrix, x, K, work, M, y, N, n0, n1, cpu);
    });
}

// Rows quantized to int8 (split across the threads by 16 rows), then the int8 x int4
// product split by 32 output channels (docs/benchmarks.md: int8-activation prefill).
void QuantLinear::runInt8(const float *x, int64_t rows, float *y) const
{
    const int M = static_cast<int>(rows), K = m_matrix.K, N = m_matrix.N, g = m_matrix.group;
    void *work = int8Scratch(kernels::w4_int8_rows_bytes(M, K, g));
    at::parallel_for(0, M, 16, [&](int64_t m0, int64_t m1) {
        kernels::w4_int8_quantize_rows(x, M, K, K, g, work, static_cast<int>(m0), static_cast<int>(m1));
    });
    constexpr int64_t channels = kernels::kInt8GemmChannels;
    at::parallel_for(0, (N + channels - 1) / channels, 1, [&](int64_t t0, int64_t t1) {
        const int n0 = static_cast<int>(t0 * channels);
        const int n1 = static_cast<int>(std::min<int64_t>(N, t1 * channels));
        kernels::w4_int8_gemm(m_matrix, work, M, y, N, n0, n1);
    });
}

void QuantLinear::runPanels(const at::Tensor &x, at::Tensor &y) const
{
    const int64_t K = m_matrix.K, N = m_matrix.N;
    const int64_t rows = panelRows(K, N);
    float *panelData = panelScratch(static_cast<size_t>(rows * K));
    const kernels::CpuIsa cpu = isa();
    const bool gemm = m_matrix.packing == kernels::W4Packing::Gemm;
    for (int64_t n0 = 0; n0 < N; n0 += rows) {
        const int64_t nb = std::min(rows, N - n0);
        const int a = static_cast<int>(n0), b = static_cast<int>(n0 + nb);
        auto out = y.narrow(1, n0, nb);
        // Each packing is dequantized in its storage orientation (rows of W for GEMV, W^T for
        // GEMM), split across the threads by 64 channels. This shares the OpenMP threads with
        // BLAS only when BLAS is the OpenMP build (scripts/setup-deps.sh); with OpenBLAS's own
        // pthreads the two pools fight for the cores (measured: int4 prefill halved).
        at::parallel_for(0, (nb + 63) / 64, 1, [&](int64_t t0, int64_t t1) {
            const int c0 = a + static_cast<int>(t0 * 64), c1 = std::min(b, a + static_cast<int>(t1 * 64));
            if (gemm)
                kernels::w4_dequantize_cols(m_matrix, c0, c1, panelData + (c0 - a), static_cast<int>(nb), cpu);
            else
                kernels::w4_dequantize_rows(m_matrix, c0, c1, panelData + static_cast<int64_t>(c0 - a) * K,
                                            static_cast<int>(K), cpu);
        });
        if (gemm)
            at::mm_out(out, x, at::from_blob(panelData, {K, nb}, at::kFloat));
        else
            at::mm_out(out, x, at::from_blob(panelData, {nb, K}, at::kFloat).t());
    }
}

std::string QuantLinear::describe() const
{
    std::ostringstream out;
    out << "int4 " << (m_matrix.packing == kernels::W4Packing::Gemm ? "gemm" : "gemv") << " g" << m_matrix.group
        << " [" << m_matrix.K << " -> " << m_matrix.N << "]";
    return out.str();
}

uint64_t QuantLinear::weightBytes() const
{
    return m_qweight.nbytes() + m_qzeros.nbytes() + m_scales.nbytes() + (m_bias.defined() ? m_bias.nbytes() : 0);
}

at::Tensor QuantLinear::dequantized() const
{
    auto w = at::empty({m_matrix.N, m_matrix.K}, at::kFloat);
    kernels::w4_dequantize_rows(m_matrix, 0, m_matrix.N, w.data_ptr<float>(), m_matrix.K, kernels::CpuIsa::Scalar);
    return w;
}

std::unique_ptr<QuantLinear> stackQuantLinears(const std::vector<const QuantLinear *> &parts)
{
    AWQ_CHECK(!parts.empty(), InvalidArgument, "nothing to stack");
    const QuantLinear &first = *parts.front();
    int64_t outTotal = 0;
    bool anyBias = false;
    for (const QuantLinear *p : parts) {
        AWQ_CHECK(p->packing() == first.packing() && p->inFeatures() == first.inFeatures() &&
                      p->groupSize() == first.groupSize(),
                  InvalidArgument, "cannot stack ", p->describe(), " onto ", first.describe(),
                  " (packing, in_features and group size must agree)");
        outTotal += p->outFeatures();
        anyBias = anyBias || p->bias().defined();
    }
    // GEMM packing stacks output channels along dim 1 (words of 8 channels), GEMV along dim 0.
    const int64_t dim = first.packing() == kernels::W4Packing::Gemm ? 1 : 0;
    std::vector<at::Tensor> q, z, s, b;
    for (const QuantLinear *p : parts) {
        q.push_back(p->qweight());
        z.push_back(p->qzeros());
        s.push_back(p->scales());
        b.push_back(p->bias().defined() ? p->bias() : at::zeros({p->outFeatures()}, at::kFloat));
    }
    return std::make_unique<QuantLinear>(first.packing(), first.inFeatures(), outTotal, first.groupSize(),
                                         at::cat(q, dim), at::cat(z, dim), at::cat(s, dim),
                                         anyBias ? at::cat(b, 0) : at::Tensor());
}

std::unique_ptr<QuantLinear> repackedAsGemv(const QuantLinear &linear)
{
    const kernels::W4Matrix &m = linear.matrix();
    if (m.packing == kernels::W4Packing::Gemv)
        return nullptr;
    if (!(m.group == 32 || m.group == 64 || m.group >= 128) || m.K % 8 != 0)
        return nullptr;
    const int K = m.K, N = m.N, g = m.group, G = K / g, ZW = kernels::gemvZerosWidth(K, g);
    std::vector<uint8_t> codes(static_cast<size_t>(N) * K), zeros(static_cast<size_t>(N) * G);
    kernels::unpack_gemm(m.qweight, K, N, codes.data());
    kernels::unpack_gemm_zeros(m.qzeros, G, N, zeros.data());
    auto qweight = at::empty({N, K / 8}, at::kInt);
    auto qzeros = at::empty({N, ZW}, at::kInt);
    kernels::pack_gemv(codes.data(), K, N, qweight.data_ptr<int32_t>());
    kernels::pack_gemv_zeros(zeros.data(), K, N, g, qzeros.data_ptr<int32_t>());
    // scales [G][N] -> [N][ZW * 8], the padding columns 0 as the packers write them.
    auto scales = at::zeros({N, ZW * 8}, at::kHalf);
    scales.narrow(1, 0, G).copy_(linear.scales().t());
    return std::make_unique<QuantLinear>(kernels::W4Packing::Gemv, K, N, g, qweight, qzeros, scales, linear.bias());
}

} // namespace awq
