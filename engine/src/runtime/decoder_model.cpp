#include "awq/runtime/decoder_model.h"

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/cuda/decoder_plan.h"
#ifdef AWQ_WITH_CUDA_DECODER
#include "awq/nn/cuda_decoder.h"
#endif
#include "awq/nn/fused_cpu_decoder.h"
#include "awq/nn/kv_cache.h"
#include "awq/nn/reference_model.h"

namespace awq {

ReferenceDecoder::ReferenceDecoder(std::unique_ptr<ReferenceModel> model, int64_t batch, int64_t maxSeqLen)
    : m_owned(std::move(model)), m_model(m_owned.get())
{
    AWQ_CHECK(m_model != nullptr, InvalidArgument, "ReferenceDecoder needs a model");
    reset(batch, maxSeqLen);
}

ReferenceDecoder::ReferenceDecoder(ReferenceModel &model, int64_t batch, int64_t maxSeqLen) : m_model(&model)
{
    reset(batch, maxSeqLen);
}

ReferenceDecoder::~ReferenceDecoder() = default;

const ModelConfig &ReferenceDecoder::config() const
{
    return m_model->config();
}

std::string ReferenceDecoder::describe() const
{
    return m_model->describe();
}

std::string ReferenceDecoder::device() const
{
    return m_model->device().str();
}

void ReferenceDecoder::reset(int64_t batch, int64_t maxSeqLen)
{
    const int64_t length = maxSeqLen > 0 ? maxSeqLen : config().maxPositionEmbeddings;
    m_cache.reset(); // release the old cache before allocating the new one
    m_cache = std::make_unique<KVCache>(config(), batch, length, m_model->dtype(), m_model->device());
    m_batch = batch;
    m_maxSeqLen = length;
}

void ReferenceDecoder::truncate(int64_t length)
{
    m_cache->truncate(length);
}

int64_t ReferenceDecoder::length() const
{
    return m_cache->length();
}

at::Tensor ReferenceDecoder::prefill(const at::Tensor &ids)
{
    AWQ_CHECK(ids.dim() == 2 && ids.size(0) == m_batch, InvalidArgument, "a batch of ",
              ids.dim() == 2 ? ids.size(0) : 0, " sequences does not match the decoder's batch of ", m_batch);
    return m_model->forward(ids, m_cache.get(), /*lastOnly=*/true).select(1, 0).to(at::kCPU, at::kFloat);
}

at::Tensor ReferenceDecoder::score(const at::Tensor &ids)
{
    m_cache->reset();
    return m_model->forward(ids).to(at::kCPU, at::kFloat);
}

DecoderMemory ReferenceDecoder::memory() const
{
    DecoderMemory m;
    const ModelConfig &c = config();
    const uint64_t element = static_cast<uint64_t>(c10::elementSize(m_model->dtype()));
    m.weightBytes = static_cast<uint64_t>(c.parameterCount()) * element;
    for (int64_t i = 0; i < c.numLayers; ++i) // quantized linears hold fewer bytes than parameters x element
        for (const auto &linear : m_model->layer(i).linears)
            if (linear)
                m.weightBytes += linear->weightBytes()
                                 - static_cast<uint64_t>(linear->inFeatures() * linear->outFeatures()) * element;
    m.kvCacheBytes = m_cache->bytes();
    return m;
}

std::unique_ptr<DecoderModel> makeDecoder(std::unique_ptr<ReferenceModel> model, DecoderKind kind, bool gemvLayout,
                                          int64_t batch, int64_t maxSeqLen)
{
    AWQ_CHECK(model != nullptr, InvalidArgument, "makeDecoder needs a model");
    const bool fusable = model->dtype() == at::kFloat && model->device().is_cpu();
    if (kind == DecoderKind::Fused && fusable)
        return std::make_unique<FusedCpuDecoder>(std::move(model), batch, maxSeqLen,
                                                 gemvLayout ? Int4Layout::Gemv : Int4Layout::AsStored);
    return std::make_unique<ReferenceDecoder>(std::move(model), batch, maxSeqLen);
}

bool cudaDecoderBuilt()
{
#ifdef AWQ_WITH_CUDA_DECODER
    return true;
#else
    return false;
#endif
}

TensorTarget loadTargetFor(const std::string &device, DecoderKind kind)
{
    if (device == "cpu" || (kind == DecoderKind::Fused && cudaDecoderBuilt()))
        return TensorTarget{};
    return TensorTarget{at::kHalf, c10::Device(device)};
}

std::unique_ptr<DecoderModel> makeDecoderOn(const std::string &device, std::unique_ptr<ReferenceModel> model,
                                            DecoderKind kind, bool gemvLayout, int64_t batch, int64_t maxSeqLen)
{
    AWQ_CHECK(model != nullptr, InvalidArgument, "makeDecoder needs a model");
    if (device == "cpu" || kind == DecoderKind::Reference || !model->device().is_cpu())
        return makeDecoder(std::move(model), kind, gemvLayout, batch, maxSeqLen);
    const int index = cuda::parseCudaDevice(device);
#ifdef AWQ_WITH_CUDA_DECODER
    return std::make_unique<CudaDecoder>(std::move(model), index, batch, maxSeqLen);
#else
    fail(ErrorCode::Device, "device '", device, "' (CUDA GPU ", index,
         "): this build has no CUDA decoder; build against a CUDA LibTorch with nvcc present (docs/gpu.md)");
#endif
}

} // namespace awq
