#include "awq/quant/awq_pack.h"

#include <stdexcept>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/kernels/awq_unpack.h"
#include "awq/quant/pseudo_quant.h"

namespace awq {

PackedLinear packLinear(const at::Tensor &weight, const at::Tensor &bias, const QuantizerSpec &spec,
                        const std::string &version)
{
    AWQ_CHECK(spec.bits == 4 && spec.zeroPoint, InvalidArgument,
              "packing needs 4-bit quantization with zero points (got w_bit ", spec.bits,
              spec.zeroPoint ? "" : ", symmetric", ")");
    const int64_t n = weight.size(0), k = weight.size(1), g = spec.groupSize, groups = k / g;
    // AutoAWQ casts the linear to fp16 before the final quantization.
    const PseudoQuantResult q =
        pseudoQuantize(weight.to(at::kHalf).to(at::kFloat), spec, QuantPrecision::Fp16, /*wantCodes=*/true);
    auto codes = q.codes.contiguous();                    // [N, K]
    auto zeros = q.zeros.to(at::kByte).contiguous();      // [N, G]
    auto scales16 = q.scales.to(at::kHalf).contiguous();  // [N, G]
    PackedLinear out;
    out.dequantized = q.dequantized;
    if (bias.defined())
        out.bias = bias.to(at::kHalf).contiguous();
    const int K = static_cast<int>(k), N = static_cast<int>(n), G = static_cast<int>(groups);
    try {
        if (version == "gemm") {
            out.qweight = at::empty({k, n / 8}, at::kInt);
            out.qzeros = at::empty({groups, n / 8}, at::kInt);
            kernels::pack_gemm(codes.data_ptr<uint8_t>(), K, N, out.qweight.data_ptr<int32_t>());
            kernels::pack_gemm_zeros(zeros.data_ptr<uint8_t>(), G, N, out.qzeros.data_ptr<int32_t>());
            out.scales = scales16.t().contiguous(); // [G, N]
        } else if (version == "gemv") {
            const int64_t zw = kernels::gemvZerosWidth(K, static_cast<int>(g));
            out.qweight = at::empty({n, k / 8}, at::kInt);
            out.qzeros = at::empty({n, zw}, at::kInt);
            kernels::pack_gemv(codes.data_ptr<uint8_t>(), K, N, out.qweight.data_ptr<int32_t>());
            kernels::pack_gemv_zeros(zeros.data_ptr<uint8_t>(), K, N, static_cast<int>(g),
                                     out.qzeros.data_ptr<int32_t>());
            out.scales = at::zeros({n, zw * 8}, at::kHalf);
            out.scales.narrow(1, 0, groups).copy_(scales16);
        } else {
            fail(ErrorCode::InvalidArgument, "unknown AWQ version '", version, "' (gemm or gemv)");
        }
    } catch (const std::invalid_argument &e) {
        fail(ErrorCode::InvalidArgument, "packing [", n, " x ", k, "] as ", version, ": ", e.what());
    }
    return out;
}

} // namespace awq
