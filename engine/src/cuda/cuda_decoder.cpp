#include "awq/nn/cuda_decoder.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <initializer_list>
#include <vector>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/kernels/decoder_ops_cuda.h"
#include "awq/kernels/half.h"
#include "awq/nn/decoder_block.h"
#include "awq/nn/reference_model.h"
#include "awq/nn/rope.h"
#include "cuda_check.h"
#include "cuda_linear.h"

namespace awq {

using cuda::CudaLinear;
using cuda::DeviceBuffer;
using cuda::check;

namespace {

DeviceBuffer uploadFloat(const at::Tensor &t, const std::string &what)
{
    const at::Tensor c = t.to(at::kCPU, at::kFloat).contiguous();
    DeviceBuffer b(c.nbytes(), what);
    b.upload(c.data_ptr(), c.nbytes(), what.c_str());
    return b;
}

DeviceBuffer uploadHalf(const at::Tensor &t, const std::string &what)
{
    const at::Tensor c = t.to(at::kCPU, at::kHalf).contiguous();
    DeviceBuffer b(c.nbytes(), what);
    b.upload(c.data_ptr(), c.nbytes(), what.c_str());
    return b;
}

uint64_t u(int64_t v)
{
    return static_cast<uint64_t>(v);
}

} // namespace

struct CudaDecoder::Impl {
    struct Layer {
        std::array<DeviceBuffer, kNormRoleCount> norms; // fp32, gemma's (1 + w) folded in
        const float *norm(NormRole role) const { return norms[static_cast<size_t>(role)].as<float>(); }
        std::unique_ptr<CudaLinear> qkv, o, gateUp, down;
    };
    // Activations of `rows` = batch x tokens positions (activationBytes in the plan).
    struct Buffers {
        int64_t rows = 0;
        DeviceBuffer hidden, normed, qkv, attn, attnOut, gateUp, act, ids;
    };

    ModelConfig config;
    int device = 0;
    cudaStream_t stream = nullptr;
    cublasHandle_t cublas = nullptr;
    DeviceBuffer embed, lmHead, finalNorm, cos, sin, keys, values, workspace, headIn, logits;
    bool tied = false;
    float embedScale = 1.0f;
    std::vector<Layer> layers;
    int64_t batch = 0, maxSeqLen = 0, length = 0;
    Buffers decode, scratch;
    std::vector<int32_t> hostIds;
    at::Tensor hostLogits;

    ~Impl()
    {
        if (cublas)
            cublasDestroy(cublas);
        if (stream)
            cudaStreamDestroy(stream);
    }

    void select() const { check(cudaSetDevice(device), "cudaSetDevice"); }

    Buffers makeBuffers(int64_t rows) const
    {
        const cuda::ActivationBytes a = cuda::activationBytes(config, rows, 0);
        Buffers b;
        b.rows = rows;
        b.hidden = DeviceBuffer(a.hidden, "the hidden states");
        b.normed = DeviceBuffer(a.normed, "the normalised hidden states");
        b.qkv = DeviceBuffer(a.qkv, "q/k/v");
        b.attn = DeviceBuffer(a.attn, "the attention output");
        b.attnOut = DeviceBuffer(a.attnOut, "the o_proj/down_proj output");
        b.gateUp = DeviceBuffer(a.gateUp, "gate/up");
        b.act = DeviceBuffer(a.act, "the MLP activation");
        b.ids = DeviceBuffer(a.ids, "the token ids");
        return b;
    }

    std::vector<cuda::LayerLinears> specs() const
    {
        std::vector<cuda::LayerLinears> out;
        for (const Layer &l : layers)
            out.push_back({l.qkv->spec(), l.o->spec(), l.gateUp->spec(), l.down->spec()});
        return out;
    }

    void ensureWorkspace(int64_t rows)
    {
        cuda::ensureCapacity(workspace, cuda::workspaceBytes(specs(), rows), "the linears' workspace");
    }

    void ensureHead(int64_t rows)
    {
        cuda::ensureCapacity(headIn, u(rows) * u(config.hiddenSize) * 2, "the lm_head input");
        cuda::ensureCapacity(logits, u(rows) * u(config.vocabSize) * 4, "the logits");
    }

    // Embeds ids [batch, T] and runs every layer; the context advances by T.
    Buffers &runLayers(const at::Tensor &ids);
    // Final norm of `rows` hidden rows `stride` rows apart from `first`, lm_head, soft-cap;
    // returns the logits [rows, vocab] float32 on the CPU.
    at::Tensor head(const float *first, int64_t rows, int64_t stride);
};

CudaDecoder::CudaDecoder(std::unique_ptr<ReferenceModel> model, int device, int64_t batch, int64_t maxSeqLen)
    : m(std::make_unique<Impl>())
{
    AWQ_CHECK(model != nullptr, InvalidArgument, "the CUDA decoder needs a model");
    AWQ_CHECK(model->dtype() == at::kFloat && model->device().is_cpu(), UnsupportedModel,
              "the CUDA decoder uploads a model loaded in float32 on the CPU; this one is ",
              c10::toString(model->dtype()), " on ", model->device().str());
    int count = 0;
    const cudaError_t counted = cudaGetDeviceCount(&count);
    AWQ_CHECK(counted == cudaSuccess && device >= 0 && device < count, Device, "CUDA device ", device,
              " is not available (", counted == cudaSuccess ? std::to_string(count) + " visible" : cudaGetErrorString(counted),
              ")");
    m->config = model->config();
    m->device = device;
    const ModelConfig &c = m->config;
    AWQ_CHECK(c.headDim % 2 == 0 && c.headDim <= 256, UnsupportedModel, "the CUDA attention kernels take head_dim up to 256 (even), not ",
              c.headDim);
    AWQ_CHECK(c.moe.numExperts == 0, UnsupportedModel, "the CUDA decoder does not run mixture-of-experts models (",
              c.modelType, ") yet; run it on the CPU (--device cpu)");
    for (int64_t l = 0; l < c.numLayers; ++l)
        AWQ_CHECK(!c.localRope(l), UnsupportedModel, "the CUDA decoder has one RoPE table; ", c.modelType,
                  "'s sliding layers rotate with their own base (rope_local_base_freq): run it on the CPU (--device cpu)");
    m->select();
    check(cudaStreamCreateWithFlags(&m->stream, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cublasCreate(&m->cublas), "cublasCreate");
    check(cublasSetStream(m->cublas, m->stream), "cublasSetStream");

    m->embed = uploadHalf(model->embedWeight(), "the embeddings");
    m->tied = model->lmHeadWeight().data_ptr() == model->embedWeight().data_ptr();
    if (!m->tied)
        m->lmHead = uploadHalf(model->lmHeadWeight(), "the lm_head");
    const bool plusOne = c.arch().normPlusOne;
    auto normWeight = [&](const at::Tensor &w) { return plusOne ? w.to(at::kFloat) + 1.0f : w.to(at::kFloat); };
    m->finalNorm = uploadFloat(normWeight(model->finalNormWeight()), "the final norm");
    if (c.arch().scaleEmbeddings) // gemma: times sqrt(hidden) rounded to fp16, the model's dtype here
        m->embedScale = kernels::half_to_float(kernels::float_to_half(std::sqrt(static_cast<float>(c.hiddenSize))));

    for (int64_t i = 0; i < c.numLayers; ++i) {
        DecoderLayer &src = model->layer(i);
        const std::string prefix = c.names().layerName(i);
        Impl::Layer layer;
        for (size_t r = 0; r < kNormRoleCount; ++r)
            if (src.norms[r].defined())
                layer.norms[r] = uploadFloat(normWeight(src.norms[r]), prefix + roleName(static_cast<NormRole>(r)) + " norm");
        auto stacked = [&](LinearRole whole, std::initializer_list<LinearRole> parts) -> std::unique_ptr<Linear> {
            if (src.linear(whole))
                return std::move(src.slot(whole));
            std::vector<const Linear *> linears;
            for (LinearRole r : parts)
                linears.push_back(src.linear(r));
            return stackOutputs(linears);
        };
        layer.qkv = std::make_unique<CudaLinear>(*stacked(LinearRole::Qkv, {LinearRole::Q, LinearRole::K, LinearRole::V}),
                                                 prefix + "qkv");
        layer.gateUp = std::make_unique<CudaLinear>(*stacked(LinearRole::GateUp, {LinearRole::Gate, LinearRole::Up}),
                                                    prefix + "gate_up");
        layer.o = std::make_unique<CudaLinear>(*src.linear(LinearRole::O), prefix + c.arch().nameOf(LinearRole::O));
        layer.down = std::make_unique<CudaLinear>(*src.linear(LinearRole::Down), prefix + c.arch().nameOf(LinearRole::Down));
        for (std::unique_ptr<Linear> &slot : src.linears) // uploaded: free the host copy layer by layer
            slot.reset();
        m->layers.push_back(std::move(layer));
    }
    model.reset();
    reset(batch, maxSeqLen);
}

CudaDecoder::~CudaDecoder()
{
    if (m && m->stream) {
        cudaSetDevice(m->device);
        cudaStreamSynchronize(m->stream);
    }
}

const ModelConfig &CudaDecoder::config() const
{
    return m->config;
}

std::string CudaDecoder::device() const
{
    return "cuda:" + std::to_string(m->device);
}

int64_t CudaDecoder::length() const
{
    return m->length;
}

int64_t CudaDecoder::batch() const
{
    return m->batch;
}

int64_t CudaDecoder::maxSeqLen() const
{
    return m->maxSeqLen;
}

std::vector<cuda::LayerLinears> CudaDecoder::linearSpecs() const
{
    return m->specs();
}

std::string CudaDecoder::describe() const
{
    const ModelConfig &c = m->config;
    std::string linears = m->layers.empty() ? std::string() : ", linears " + m->layers.front().qkv->describe();
    return c.modelType + ", " + std::to_string(c.numLayers) + " layers, fp16 on " + device() + linears + ", lm_head fp16" +
           (m->tied ? " (tied)" : "");
}

void CudaDecoder::reset(int64_t batch, int64_t maxSeqLen)
{
    const ModelConfig &c = m->config;
    const int64_t length = maxSeqLen > 0 ? maxSeqLen : c.maxPositionEmbeddings;
    AWQ_CHECK(batch >= 1 && length >= 1, InvalidArgument, "the CUDA decoder needs batch >= 1 and max_seq_len >= 1, got ",
              batch, " and ", length);
    m->select();
    check(cudaStreamSynchronize(m->stream), "synchronising before reallocating the cache");
    // Release the old cache before allocating the new one (both may be large).
    m->keys = DeviceBuffer();
    m->values = DeviceBuffer();
    m->decode = Impl::Buffers();
    m->batch = batch;
    m->maxSeqLen = length;
    m->length = 0;
    const uint64_t half = cuda::kvCacheBytes(c, batch, length) / 2;
    m->keys = DeviceBuffer(half, "the KV cache (keys)");
    m->values = DeviceBuffer(half, "the KV cache (values)");
    RotaryEmbedding rope(c);
    auto [cos, sin] = rope.cosSin(0, length);
    m->cos = uploadFloat(cos, "the RoPE cos table");
    m->sin = uploadFloat(sin, "the RoPE sin table");
    m->decode = m->makeBuffers(batch);
    m->ensureWorkspace(batch);
    m->ensureHead(batch);
}

void CudaDecoder::truncate(int64_t length)
{
    AWQ_CHECK(length >= 0 && length <= m->length, InvalidArgument, "cannot truncate a context of ", m->length,
              " tokens to ", length);
    m->length = length;
}

CudaDecoder::Impl::Buffers &CudaDecoder::Impl::runLayers(const at::Tensor &ids)
{
    const ModelConfig &c = config;
    AWQ_CHECK(ids.dim() == 2 && ids.size(1) >= 1, InvalidArgument, "input ids must be [batch, tokens], got ", ids.sizes());
    AWQ_CHECK(ids.size(0) == batch, InvalidArgument, "a batch of ", ids.size(0),
              " sequences does not match the decoder's batch of ", batch);
    const int64_t t = ids.size(1);
    AWQ_CHECK(length + t <= maxSeqLen, InvalidArgument, "the context of ", length + t,
              " tokens exceeds the KV cache size of ", maxSeqLen, " tokens (raise the maximum context length)");
    const int64_t rows = batch * t;
    select();
    if (rows != decode.rows && rows > scratch.rows) {
        scratch = Buffers();
        scratch = makeBuffers(rows);
    }
    Buffers &buf = rows == decode.rows ? decode : scratch;
    ensureWorkspace(rows);

    const at::Tensor idsCpu = ids.to(at::kCPU, at::kLong).contiguous();
    const int64_t *idx = idsCpu.data_ptr<int64_t>();
    hostIds.resize(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) {
        AWQ_CHECK(idx[r] >= 0 && idx[r] < c.vocabSize, InvalidArgument, "token id ", idx[r],
                  " is outside the vocabulary of ", c.vocabSize);
        hostIds[static_cast<size_t>(r)] = static_cast<int32_t>(idx[r]);
    }
    check(cudaMemcpyAsync(buf.ids.get(), hostIds.data(), u(rows) * sizeof(int32_t), cudaMemcpyHostToDevice, stream),
          "copying the token ids");

    const int H = static_cast<int>(c.hiddenSize), R = static_cast<int>(rows);
    const float eps = static_cast<float>(c.rmsNormEps);
    auto *hidden = buf.hidden.as<float>();
    auto *normed = buf.normed.as<__half>();
    auto *qkv = buf.qkv.as<__half>();
    auto *attn = buf.attn.as<__half>();
    auto *out = buf.attnOut.as<__half>();
    const cuda::LinearContext ctx{stream, cublas, workspace.get(), workspace.bytes()};
    check(kernels::embed_rows_cuda(buf.ids.as<int32_t>(), R, embed.as<__half>(), H, embedScale, hidden, stream),
          "embedding");
    check(kernels::rms_norm_cuda(hidden, R, 1, H, layers.front().norm(NormRole::Input), eps, normed, stream),
          "input norm");
    kernels::AttentionGeometry g;
    g.batch = static_cast<int>(batch);
    g.tokens = static_cast<int>(t);
    g.heads = static_cast<int>(c.numHeads);
    g.kvHeads = static_cast<int>(c.numKvHeads);
    g.headDim = static_cast<int>(c.headDim);
    g.maxSeqLen = static_cast<int>(maxSeqLen);
    g.start = static_cast<int>(length);
    const uint64_t layerCache = u(batch) * u(c.numKvHeads) * u(maxSeqLen) * u(c.headDim);
    const float scale = static_cast<float>(c.attentionScale());
    const float softcap = static_cast<float>(c.attnLogitSoftcap);
    for (size_t l = 0; l < layers.size(); ++l) {
        const Layer &layer = layers[l];
        __half *k = keys.as<__half>() + l * layerCache, *v = values.as<__half>() + l * layerCache;
        layer.qkv->forward(ctx, normed, rows, qkv);
        check(kernels::rope_cache_write_cuda(qkv, layer.norm(NormRole::QHead), layer.norm(NormRole::KHead), eps,
                                             cos.as<float>(), sin.as<float>(), k, v, g, stream),
              "RoPE and the cache write");
        check(kernels::attention_cuda(qkv, k, v, g, scale, softcap, static_cast<int>(c.attentionWindow(static_cast<int64_t>(l))),
                                      attn, stream),
              "attention");
        layer.o->forward(ctx, attn, rows, out);
        check(kernels::residual_add_norm_cuda(hidden, out, layer.norm(NormRole::AttnOut), layer.norm(NormRole::PreMlp), R,
                                              H, eps, normed, stream),
              "attention residual");
        layer.gateUp->forward(ctx, normed, rows, buf.gateUp.as<__half>());
        check(kernels::gated_activation_cuda(buf.gateUp.as<__half>(), R, static_cast<int>(c.intermediateSize),
                                             c.activation == Activation::GeluTanh, buf.act.as<__half>(), stream),
              "MLP activation");
        layer.down->forward(ctx, buf.act.as<__half>(), rows, out);
        const float *next = l + 1 < layers.size() ? layers[l + 1].norm(NormRole::Input) : nullptr;
        check(kernels::residual_add_norm_cuda(hidden, out, layer.norm(NormRole::MlpOut), next, R, H, eps, normed, stream),
              "MLP residual");
    }
    length += t;
    return buf;
}

at::Tensor CudaDecoder::Impl::head(const float *first, int64_t rows, int64_t stride)
{
    const ModelConfig &c = config;
    ensureHead(rows);
    const cuda::LinearContext ctx{stream, cublas, workspace.get(), workspace.bytes()};
    check(kernels::rms_norm_cuda(first, static_cast<int>(rows), static_cast<int>(stride), static_cast<int>(c.hiddenSize),
                                 finalNorm.as<float>(), static_cast<float>(c.rmsNormEps), headIn.as<__half>(), stream),
          "final norm");
    cuda::gemmHalf(ctx, headIn.as<__half>(), rows, (tied ? embed : lmHead).as<__half>(), false, c.hiddenSize,
                   c.vocabSize, logits.get(), /*floatOutput=*/true);
    if (c.finalLogitSoftcap > 0)
        check(kernels::softcap_cuda(logits.as<float>(), u(rows) * u(c.vocabSize), static_cast<float>(c.finalLogitSoftcap),
                                    stream),
              "logit soft-capping");
    if (!hostLogits.defined() || hostLogits.size(0) != rows)
        hostLogits = at::empty({rows, c.vocabSize}, at::kFloat);
    check(cudaMemcpyAsync(hostLogits.data_ptr(), logits.get(), hostLogits.nbytes(), cudaMemcpyDeviceToHost, stream),
          "copying the logits");
    check(cudaStreamSynchronize(stream), "the forward"); // the step's one synchronisation
    return hostLogits;
}

at::Tensor CudaDecoder::prefill(const at::Tensor &ids)
{
    Impl::Buffers &buf = m->runLayers(ids);
    const int64_t t = ids.size(1);
    // Each sequence's last position: rows t-1, 2t-1, ...
    return m->head(buf.hidden.as<float>() + (t - 1) * m->config.hiddenSize, m->batch, t);
}

at::Tensor CudaDecoder::score(const at::Tensor &ids)
{
    AWQ_CHECK(ids.dim() == 2 && ids.size(1) >= 1, InvalidArgument, "input ids must be [batch, tokens], got ", ids.sizes());
    if (ids.size(0) != m->batch || ids.size(1) > m->maxSeqLen)
        reset(ids.size(0), std::max(ids.size(1), m->maxSeqLen));
    m->length = 0;
    Impl::Buffers &buf = m->runLayers(ids);
    m->length = 0;
    const int64_t rows = buf.rows;
    at::Tensor logits = m->head(buf.hidden.as<float>(), rows, 1).clone();
    return logits.view({m->batch, ids.size(1), m->config.vocabSize});
}

DecoderMemory CudaDecoder::memory() const
{
    DecoderMemory mem;
    mem.weightBytes = m->embed.bytes() + m->lmHead.bytes() + m->finalNorm.bytes() + m->cos.bytes() + m->sin.bytes();
    for (const Impl::Layer &l : m->layers) {
        for (const DeviceBuffer &n : l.norms)
            mem.weightBytes += n.bytes();
        mem.weightBytes += l.qkv->deviceBytes() + l.o->deviceBytes() + l.gateUp->deviceBytes() + l.down->deviceBytes();
    }
    mem.kvCacheBytes = m->keys.bytes() + m->values.bytes();
    for (const Impl::Buffers *b : {&m->decode, &m->scratch})
        mem.bufferBytes += b->hidden.bytes() + b->normed.bytes() + b->qkv.bytes() + b->attn.bytes() + b->attnOut.bytes() +
                           b->gateUp.bytes() + b->act.bytes() + b->ids.bytes();
    mem.bufferBytes += m->workspace.bytes() + m->headIn.bytes() + m->logits.bytes();
    return mem;
}

} // namespace awq
