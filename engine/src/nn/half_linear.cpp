#include "awq/nn/half_linear.h"

#include <algorithm>
#include <sstream>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "awq/core/error.h"
#include "awq/kernels/f16_linear.h"
#include "awq/nn/quant_linear.h"

namespace awq {

HalfLinear::HalfLinear(const at::Tensor &weight) : m_weight(weight.to(at::kHalf).contiguous())
{
    AWQ_CHECK(m_weight.dim() == 2 && m_weight.device().is_cpu(), InvalidArgument,
              "HalfLinear needs a 2-D CPU weight, got ", weight.sizes());
}

bool HalfLinear::isExactlyHalf(const at::Tensor &t)
{
    // Slice by slice: a whole-tensor round trip held an fp16 and an fp32 copy of it at once
    // (TinyLlama's lm_head: 0.4 GiB above the model while the decoder was being made).
    const at::Tensor flat = t.reshape({-1});
    constexpr int64_t kSlice = int64_t(1) << 20;
    for (int64_t begin = 0; begin < flat.numel(); begin += kSlice) {
        const at::Tensor part = flat.slice(0, begin, std::min(flat.numel(), begin + kSlice));
        if (!at::equal(part.to(at::kHalf).to(part.scalar_type()), part))
            return false;
    }
    return true;
}

at::Tensor HalfLinear::forward(const at::Tensor &x) const { return forwardRows(*this, x); }

void HalfLinear::forwardInto(const at::Tensor &x, at::Tensor &y) const
{
    const int K = static_cast<int>(inFeatures()), N = static_cast<int>(outFeatures());
    const int M = static_cast<int>(x.size(0));
    const auto *w = reinterpret_cast<const uint16_t *>(m_weight.data_ptr<at::Half>());
    const float *xp = x.data_ptr<float>();
    float *yp = y.data_ptr<float>();
    const kernels::CpuIsa isa = QuantLinear::isa();
    constexpr int64_t kRowsPerTask = 256;
    at::parallel_for(0, (N + kRowsPerTask - 1) / kRowsPerTask, 1, [&](int64_t t0, int64_t t1) {
        kernels::f16_gemv(w, K, N, xp, K, M, yp, N, static_cast<int>(t0 * kRowsPerTask),
                          static_cast<int>(std::min<int64_t>(N, t1 * kRowsPerTask)), isa);
    });
}

std::string HalfLinear::describe() const
{
    std::ostringstream out;
    out << "fp16 [" << inFeatures() << " -> " << outFeatures() << "]";
    return out.str();
}

} // namespace awq
