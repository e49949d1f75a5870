#include "awq/nn/awq_dequant.h"

#include <stdexcept>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/io/safetensors.h"
#include "awq/kernels/awq_unpack.h"

namespace awq {

namespace {

at::Tensor loadTyped(const WeightStore &store, const std::string &name, c10::ScalarType dtype,
                     std::vector<int64_t> shape)
{
    AWQ_CHECK(store.contains(name), Format, store.folder().string(), ": tensor '", name, "' is missing");
    const TensorInfo &info = store.info(name);
    const std::string file = store.fileOf(name).path().string();
    AWQ_CHECK(toScalarType(info.dtype) == dtype, Format, file, ": tensor '", name, "' is ",
              safetensorsName(info.dtype), ", expected ", c10::toString(dtype));
    AWQ_CHECK(info.shape == shape, Format, file, ": tensor '", name, "' has shape ", at::IntArrayRef(info.shape),
              ", the quantization_config and config.json imply ", at::IntArrayRef(shape));
    return store.view(name).contiguous();
}

} // namespace

at::Tensor dequantizeAwqLinear(const WeightStore &store, const std::string &prefix, int64_t inFeatures,
                               int64_t outFeatures, const QuantizationConfig &quant)
{
    const std::string where = store.folder().string();
    AWQ_CHECK(quant.quantMethod == "awq", UnsupportedModel, where, ": quant_method '", quant.quantMethod,
              "' is not supported (awq only)");
    AWQ_CHECK(quant.bits == 4, UnsupportedModel, where, ": ", quant.bits,
              "-bit AWQ checkpoints are not supported (4-bit only, as in AutoAWQ's kernels)");
    AWQ_CHECK(quant.zeroPoint, UnsupportedModel, where,
              ": symmetric (zero_point=false) AWQ checkpoints use the Marlin format, which is not supported");
    const int64_t K = inFeatures, N = outFeatures;
    const int64_t g = quant.groupSize <= 0 ? K : quant.groupSize;
    AWQ_CHECK(K % g == 0, Format, where, ": '", prefix, "': in_features ", K, " is not a multiple of group_size ", g);
    const int64_t G = K / g;
    auto out = at::empty({N, K}, at::kFloat);
    try {
        if (quant.version == "gemm") {
            AWQ_CHECK(N % 8 == 0, Format, where, ": '", prefix, "': out_features ", N, " is not a multiple of 8");
            auto qweight = loadTyped(store, prefix + ".qweight", at::kInt, {K, N / 8});
            auto qzeros = loadTyped(store, prefix + ".qzeros", at::kInt, {G, N / 8});
            auto scales = loadTyped(store, prefix + ".scales", at::kHalf, {G, N});
            kernels::dequantize_gemm(qweight.data_ptr<int32_t>(), qzeros.data_ptr<int32_t>(),
                                     reinterpret_cast<const uint16_t *>(scales.data_ptr<at::Half>()),
                                     static_cast<int>(K), static_cast<int>(N), static_cast<int>(g),
                                     out.data_ptr<float>());
        } else if (quant.version == "gemv") {
            AWQ_CHECK(K % 8 == 0, Format, where, ": '", prefix, "': in_features ", K, " is not a multiple of 8");
            const int64_t zw = kernels::gemvZerosWidth(static_cast<int>(K), static_cast<int>(g));
            auto qweight = loadTyped(store, prefix + ".qweight", at::kInt, {N, K / 8});
            auto qzeros = loadTyped(store, prefix + ".qzeros", at::kInt, {N, zw});
            auto scales = loadTyped(store, prefix + ".scales", at::kHalf, {N, zw * 8});
            kernels::dequantize_gemv(qweight.data_ptr<int32_t>(), qzeros.data_ptr<int32_t>(),
                                     reinterpret_cast<const uint16_t *>(scales.data_ptr<at::Half>()),
                                     static_cast<int>(K), static_cast<int>(N), static_cast<int>(g),
                                     out.data_ptr<float>());
        } else {
            fail(ErrorCode::UnsupportedModel, where, ": AWQ version '", quant.version,
                 "' is not supported (gemm and gemv are)");
        }
    } catch (const std::invalid_argument &e) {
        fail(ErrorCode::Format, where, ": '", prefix, "': ", e.what());
    }
    return out;
}

} // namespace awq
