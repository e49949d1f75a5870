#include "cuda_linear.h"

#include <algorithm>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/kernels/awq_dequantize_cuda.h"
#include "awq/kernels/awq_gemm_gemv_cuda.h"
#include "awq/kernels/awq_gemv_cuda.h"
#include "awq/kernels/decoder_ops_cuda.h"
#include "awq/nn/linear.h"
#include "awq/nn/quant_linear.h"

namespace awq::cuda {

namespace {

DeviceBuffer uploadTensor(const at::Tensor &t, const std::string &what)
{
    const at::Tensor c = t.contiguous();
    DeviceBuffer buffer(c.nbytes(), what);
    buffer.upload(c.data_ptr(), c.nbytes(), what.c_str());
    return buffer;
}

} // namespace

void gemmHalf(const LinearContext &ctx, const __half *x, int64_t rows, const __half *w, bool weightTransposed,
              int64_t in, int64_t out, void *y, bool floatOutput)
{
    // Row-major y [rows][out] is column-major yᵀ [out][rows] = W · xᵀ: A = W (op T of the
    // column-major [in][out] view of W [out][in], or op N of Wᵀ [in][out] viewed as [out][in]).
    const float alpha = 1.0f, beta = 0.0f;
    const int m = static_cast<int>(out), n = static_cast<int>(rows), k = static_cast<int>(in);
    check(cublasGemmEx(ctx.cublas, weightTransposed ? CUBLAS_OP_N : CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &alpha, w,
                       CUDA_R_16F, weightTransposed ? m : k, x, CUDA_R_16F, k, &beta, y,
                       floatOutput ? CUDA_R_32F : CUDA_R_16F, m, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
          "cublasGemmEx");
}

CudaLinear::CudaLinear(const Linear &linear, const std::string &name) : m_name(name)
{
    at::Tensor bias;
    if (const auto *q = dynamic_cast<const QuantLinear *>(&linear)) {
        m_spec.format = q->packing() == kernels::W4Packing::Gemv ? WeightFormat::Int4Gemv : WeightFormat::Int4Gemm;
        m_spec.in = q->inFeatures();
        m_spec.out = q->outFeatures();
        m_spec.group = q->groupSize();
        checkLinear(m_spec, name);
        m_qweight = uploadTensor(q->qweight(), name + ".qweight");
        m_qzeros = uploadTensor(q->qzeros(), name + ".qzeros");
        m_scales = uploadTensor(q->scales().to(at::kHalf), name + ".scales");
        bias = q->bias();
    } else if (const auto *d = dynamic_cast<const DenseLinear *>(&linear)) {
        m_spec.format = WeightFormat::Half;
        m_spec.in = d->inFeatures();
        m_spec.out = d->outFeatures();
        checkLinear(m_spec, name);
        m_weight = uploadTensor(d->weight().to(at::kCPU, at::kHalf), name + ".weight");
        bias = d->bias();
    } else {
        fail(ErrorCode::UnsupportedModel, name, ": ", linear.describe(), " cannot run on the GPU");
    }
    if (bias.defined()) {
        m_spec.bias = true;
        m_bias = uploadTensor(bias.to(at::kCPU, at::kHalf), name + ".bias");
    }
}

uint64_t CudaLinear::deviceBytes() const
{
    return m_weight.bytes() + m_qweight.bytes() + m_qzeros.bytes() + m_scales.bytes() + m_bias.bytes();
}

std::string CudaLinear::describe() const
{
    std::string s = formatName(m_spec.format);
    if (m_spec.format != WeightFormat::Half)
        s += " g" + std::to_string(m_spec.group);
    return s + " [" + std::to_string(m_spec.in) + " -> " + std::to_string(m_spec.out) + "]";
}

void CudaLinear::forward(const LinearContext &ctx, const __half *x, int64_t rows, __half *y) const
{
    const LinearLaunch launch = planLinear(m_spec, rows);
    AWQ_ASSERT(launch.workspaceBytes <= ctx.workspaceBytes, m_name, ": workspace of ", ctx.workspaceBytes,
               " bytes, the launch needs ", launch.workspaceBytes);
    const int K = static_cast<int>(m_spec.in), N = static_cast<int>(m_spec.out), group = static_cast<int>(m_spec.group);
    switch (launch.path) {
    case LinearPath::Cublas:
        gemmHalf(ctx, x, rows, m_weight.as<__half>(), false, m_spec.in, m_spec.out, y, false);
        break;
    case LinearPath::GemvDecode:
    case LinearPath::GemmDecode:
        for (int64_t first = 0; first < rows; first += launch.rowsPerCall) {
            const int M = static_cast<int>(std::min(launch.rowsPerCall, rows - first));
            const __half *xc = x + first * m_spec.in;
            __half *yc = y + first * m_spec.out;
            if (launch.path == LinearPath::GemvDecode)
                check(kernels::awq_gemv_forward_cuda(xc, M, m_qweight.as<int32_t>(), m_qzeros.as<int32_t>(),
                                                     m_scales.as<__half>(), K, N, group, yc, ctx.stream),
                      m_name.c_str());
            else
                check(kernels::awq_gemm_gemv_forward_cuda(xc, M, m_qweight.as<int32_t>(), m_qzeros.as<int32_t>(),
                                                          m_scales.as<__half>(), K, N, group, yc, ctx.workspace,
                                                          ctx.workspaceBytes, ctx.stream),
                      m_name.c_str());
        }
        break;
    case LinearPath::DequantCublas: {
        auto *w = static_cast<__half *>(ctx.workspace);
        const bool gemm = m_spec.format == WeightFormat::Int4Gemm;
        if (gemm)
            check(kernels::awq_dequantize_gemm_cuda(m_qweight.as<int32_t>(), m_qzeros.as<int32_t>(),
                                                    m_scales.as<__half>(), K, N, group, w, ctx.stream),
                  m_name.c_str());
        else
            check(kernels::awq_dequantize_gemv_cuda(m_qweight.as<int32_t>(), m_qzeros.as<int32_t>(),
                                                    m_scales.as<__half>(), K, N, group, w, ctx.stream),
                  m_name.c_str());
        gemmHalf(ctx, x, rows, w, /*weightTransposed=*/gemm, m_spec.in, m_spec.out, y, false);
        break;
    }
    }
    if (m_spec.bias)
        check(kernels::add_bias_cuda(y, m_bias.as<__half>(), static_cast<int>(rows), N, ctx.stream), m_name.c_str());
}

} // namespace awq::cuda
