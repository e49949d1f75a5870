#include "awq/quant/pseudo_quant.h"

#include <ATen/ATen.h>

#include "awq/core/error.h"

namespace awq {

namespace {

// Rounds to the nearest fp16 value (ties to even) and back: the result an fp16 op has.
at::Tensor toHalfExact(const at::Tensor &t)
{
    return t.to(at::kHalf).to(at::kFloat);
}

} // namespace

PseudoQuantResult pseudoQuantize(const at::Tensor &w, const QuantizerSpec &spec, QuantPrecision precision,
                                 bool wantCodes)
{
    AWQ_CHECK(w.dim() == 2, InvalidArgument, "pseudo-quantize: expected a 2-D weight, got ", w.sizes());
    AWQ_CHECK(w.scalar_type() == at::kFloat, InvalidArgument, "pseudo-quantize: expected float32, got ",
              c10::toString(w.scalar_type()));
    AWQ_CHECK(spec.bits >= 2 && spec.bits <= 8, InvalidArgument, "w_bit must be between 2 and 8, got ", spec.bits);
    const int64_t rows = w.size(0), k = w.size(1), g = spec.groupSize;
    AWQ_CHECK(g > 0 && k % g == 0, InvalidArgument, "group size ", g, " does not divide in_features ", k);
    AWQ_CHECK(!at::isnan(w).any().item<bool>(), Format, "the weight holds NaN values");
    const bool fp16 = precision == QuantPrecision::Fp16;
    auto r = [fp16](const at::Tensor &t) { return fp16 ? toHalfExact(t) : t; };

    auto groups = r(w).reshape({-1, g});
    PseudoQuantResult out;
    at::Tensor q, scale, zero;
    if (spec.zeroPoint) {
        const double qmax = static_cast<double>((1 << spec.bits) - 1);
        auto maxv = std::get<0>(groups.max(1, /*keepdim=*/true));
        auto minv = std::get<0>(groups.min(1, /*keepdim=*/true));
        scale = r(r(r(maxv - minv).clamp_min(1e-5)) / qmax);
        zero = (-at::round(r(minv / scale))).clamp(0.0, qmax);
        q = (at::round(r(groups / scale)) + zero).clamp(0.0, qmax);
        out.dequantized = r((q - zero) * scale).reshape({rows, k});
        out.zeros = zero.reshape({rows, k / g});
        if (wantCodes)
            out.codes = q.to(at::kByte).reshape({rows, k});
    } else {
        const double qmax = static_cast<double>((1 << (spec.bits - 1)) - 1);
        const double qmin = -static_cast<double>(1 << (spec.bits - 1));
        auto amax = r(std::get<0>(groups.abs().max(1, /*keepdim=*/true)).clamp_min(1e-5));
        scale = r(amax / qmax);
        q = at::round(r(groups / scale)).clamp(qmin, qmax);
        out.dequantized = r(q * scale).reshape({rows, k});
        if (wantCodes)
            out.codes = (q - qmin).to(at::kByte).reshape({rows, k});
    }
    out.scales = scale.reshape({rows, k / g});
    return out;
}

at::Tensor fakeQuantize(const at::Tensor &w, const QuantizerSpec &spec)
{
    const int64_t rows = w.size(0), k = w.size(1), g = spec.groupSize;
    auto groups = w.reshape({-1, g});
    if (spec.zeroPoint) {
        const double qmax = static_cast<double>((1 << spec.bits) - 1);
        auto maxv = std::get<0>(groups.max(1, true));
        auto minv = std::get<0>(groups.min(1, true));
        auto scale = (maxv - minv).clamp_min(1e-5) / qmax;
        auto zero = (-at::round(minv / scale)).clamp(0.0, qmax);
        auto q = (at::round(groups / scale) + zero).clamp(0.0, qmax);
        return ((q - zero) * scale).reshape({rows, k});
    }
    const double qmax = static_cast<double>((1 << (spec.bits - 1)) - 1);
    const double qmin = -static_cast<double>(1 << (spec.bits - 1));
    auto scale = std::get<0>(groups.abs().max(1, true)).clamp_min(1e-5) / qmax;
    return (at::round(groups / scale).clamp(qmin, qmax) * scale).reshape({rows, k});
}

} // namespace awq
