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

AwqTensors readAwqTensors(const WeightStore &store, const std::string &prefix, int64_t inFeatures,
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
    AwqTensors t;
    t.groupSize = g;
    if (quant.version == "gemm") {
        AWQ_CHECK(N % 8 == 0, Format, where, ": '", prefix, "': out_features ", N, " is not a multiple of 8");
        t.packing = kernels::W4Packing::Gemm;
        t.qweight = loadTyped(store, prefix + ".qweight", at::kInt, {K, N / 8});
        t.qzeros = loadTyped(store, prefix + ".qzeros", at::kInt, {G, N / 8});
        t.scales = loadTyped(store, prefix + ".scales", at::kHalf, {G, N});
    } else if (quant.version == "gemv") {
        AWQ_CHECK(K % 8 == 0, Format, where, ": '", prefix, "': in_features ", K, " is not a multiple of 8");
        int64_t zw = 0;
        try {
            zw = kernels::gemvZerosWidth(static_cast<int>(K), static_cast<int>(g));
        } catch (const std::invalid_argument &e) {
            fail(ErrorCode::Format, where, ": '", prefix, "': ", e.what());
        }
        t.packing = kernels::W4Packing::Gemv;
        t.qweight = loadTyped(store, prefix + ".qweight", at::kInt, {N, K / 8});
        t.qzeros = loadTyped(store, prefix + ".qzeros", at::kInt, {N, zw});
        t.scales = loadTyped(store, prefix + ".scales", at::kHalf, {N, zw * 8});
    } else {
        fail(ErrorCode::UnsupportedModel, where, ": AWQ version '", quant.version,
             "' is not supported (gemm and gemv are)");
    }
    return t;
}

at::Tensor dequantizeAwqLinear(const WeightStore &store, const std::string &prefix, int64_t inFeatures,
                               int64_t outFeatures, const QuantizationConfig &quant)
{
    const std::string where = store.folder().string();
    const AwqTensors t = readAwqTensors(store, prefix, inFeatures, outFeatures, quant);
    const int64_t K = inFeatures, N = outFeatures, g = t.groupSize;
    auto out = at::empty({N, K}, at::kFloat);
    try {
        auto dequantize = t.packing == kernels::W4Packing::Gemm ? kernels::dequantize_gemm : kernels::dequantize_gemv;
        dequantize(t.qweight.data_ptr<int32_t>(), t.qzeros.data_ptr<int32_t>(),
                   reinterpret_cast<const uint16_t *>(t.scales.data_ptr<at::Half>()), static_cast<int>(K),
                   static_cast<int>(N), static_cast<int>(g), out.data_ptr<float>());
    } catch (const std::invalid_argument &e) {
        fail(ErrorCode::Format, where, ": '", prefix, "': ", e.what());
    }
    return out;
}

} // namespace awq
