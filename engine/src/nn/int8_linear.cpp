#include "awq/nn/int8_linear.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <sstream>
#include <string>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "awq/core/error.h"
#include "awq/nn/quant_linear.h"
#include "huge_pages.h"

namespace awq {

namespace {

std::atomic<int> g_lmHeadFormat{[] {
    const char *env = std::getenv("AWQ_CPU_LM_HEAD");
    return static_cast<int>(env && std::string(env) == "int8" ? LmHeadFormat::Int8 : LmHeadFormat::Source);
}()};

// Output channels per parallel task: 256 rows of 2-8 KiB, as HalfLinear splits the lm_head.
constexpr int64_t kRowsPerTask = 256;

} // namespace

LmHeadFormat lmHeadFormat() { return static_cast<LmHeadFormat>(g_lmHeadFormat.load()); }
void setLmHeadFormat(LmHeadFormat format) { g_lmHeadFormat.store(static_cast<int>(format)); }

const char *lmHeadFormatName(LmHeadFormat format)
{
    return format == LmHeadFormat::Int8 ? "int8" : "source";
}

LmHeadFormat parseLmHeadFormat(const std::string &name)
{
    if (name == "source")
        return LmHeadFormat::Source;
    if (name == "int8")
        return LmHeadFormat::Int8;
    fail(ErrorCode::InvalidArgument, "unknown lm_head format '", name, "' (expected source or int8)");
}

Int8Linear::Int8Linear(const at::Tensor &weight)
{
    AWQ_CHECK(weight.dim() == 2 && weight.device().is_cpu() && weight.is_floating_point(), InvalidArgument,
              "Int8Linear needs a 2-D floating CPU weight, got ", weight.sizes());
    const int64_t N = weight.size(0), K = weight.size(1);
    AWQ_CHECK(K > 0 && K % kernels::kI8Block == 0, InvalidArgument, "Int8Linear [", K, " -> ", N,
              "]: in_features must be a multiple of ", kernels::kI8Block);
    auto codes = at::empty({N, K}, at::kByte);
    m_scales = at::empty({N, K / kernels::kI8Block}, at::kFloat);
    // Slices of 1024 rows widened to float32 one at a time: no whole float32 copy beside the source.
    constexpr int64_t kSlice = 1024;
    for (int64_t n0 = 0; n0 < N; n0 += kSlice) {
        const int64_t n1 = std::min(N, n0 + kSlice);
        const at::Tensor part = weight.slice(0, n0, n1).to(at::kFloat).contiguous();
        const int rows = static_cast<int>(n1 - n0), B = static_cast<int>(K / kernels::kI8Block);
        try {
            at::parallel_for(0, rows, 64, [&](int64_t a, int64_t b) {
                kernels::i8_quantize(part.data_ptr<float>(), rows, static_cast<int>(K),
                                     codes.data_ptr<uint8_t>() + n0 * K, m_scales.data_ptr<float>() + n0 * B,
                                     static_cast<int>(a), static_cast<int>(b));
            });
        } catch (const std::invalid_argument &e) {
            fail(ErrorCode::InvalidArgument, "Int8Linear [", K, " -> ", N, "], rows ", n0, "-", n1 - 1, " (",
                 e.what(), ")");
        }
    }
    m_codes = hugePageCopy(codes);
    m_matrix.K = static_cast<int>(K);
    m_matrix.N = static_cast<int>(N);
    m_matrix.codes = m_codes.data_ptr<uint8_t>();
    m_matrix.scales = m_scales.data_ptr<float>();
}

bool Int8Linear::int8Available(int64_t inFeatures)
{
    return inFeatures > 0 && inFeatures % kernels::kI8Block == 0 && kernels::i8_gemv_fast(QuantLinear::isa());
}

at::Tensor Int8Linear::forward(const at::Tensor &x) const { return forwardRows(*this, x); }

void Int8Linear::forwardInto(const at::Tensor &x, at::Tensor &y) const
{
    AWQ_ASSERT(x.dim() == 2 && x.size(1) == m_matrix.K && x.is_contiguous() && x.scalar_type() == at::kFloat,
               "Int8Linear::forwardInto: x ", x.sizes());
    const int M = static_cast<int>(x.size(0)), K = m_matrix.K, N = m_matrix.N;
    if (M == 0)
        return;
    const size_t need = kernels::w4_prepare_floats(M, K, kernels::kI8Block);
    if (m_work.size() < need)
        m_work.resize(need);
    const float *xp = x.data_ptr<float>();
    kernels::w4_prepare(xp, M, K, K, kernels::kI8Block, m_work.data());
    const kernels::CpuIsa isa = QuantLinear::isa();
    float *yp = y.data_ptr<float>();
    const float *work = m_work.data();
    at::parallel_for(0, (N + kRowsPerTask - 1) / kRowsPerTask, 1, [&](int64_t t0, int64_t t1) {
        kernels::i8_gemv(m_matrix, xp, work, M, yp, N, static_cast<int>(t0 * kRowsPerTask),
                         static_cast<int>(std::min<int64_t>(N, t1 * kRowsPerTask)), isa);
    });
}

std::string Int8Linear::describe() const
{
    std::ostringstream out;
    out << "int8 b" << kernels::kI8Block << " [" << inFeatures() << " -> " << outFeatures() << "]";
    return out.str();
}

uint64_t Int8Linear::weightBytes() const { return m_codes.nbytes() + m_scales.nbytes(); }

at::Tensor Int8Linear::dequantized() const
{
    auto w = at::empty({m_matrix.N, m_matrix.K}, at::kFloat);
    for (int n = 0; n < m_matrix.N; ++n)
        kernels::i8_dequantize_row(m_matrix, n, w.data_ptr<float>() + static_cast<int64_t>(n) * m_matrix.K);
    return w;
}

} // namespace awq
