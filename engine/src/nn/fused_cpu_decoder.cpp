#include "awq/nn/fused_cpu_decoder.h"

#include <cmath>
#include <algorithm>
#include <cstring>
#include <initializer_list>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "awq/core/error.h"
#include "awq/core/memory.h"
#include "awq/kernels/cpu_ops.h"
#include "awq/nn/half_linear.h"
#include "awq/nn/int8_linear.h"
#include "awq/nn/decoder_block.h"
#include "awq/nn/reference_model.h"
#include "awq/nn/quant_linear.h"
#include "awq/nn/rope.h"
#include "fused_moe.h"

namespace awq {

struct FusedCpuDecoder::Layer {
    // By NormRole, as the kernels use them: gemma's (1 + w) folded in, float32,
    // contiguous; undefined where the architecture has none.
    std::array<at::Tensor, kNormRoleCount> norms;
    const at::Tensor &norm(NormRole role) const { return norms[static_cast<size_t>(role)]; }
    bool has(NormRole role) const { return norm(role).defined(); }
    std::unique_ptr<Linear> qkv;             // [hidden -> (heads + 2 kvHeads) * headDim]
    std::unique_ptr<Linear> o;               // [heads * headDim -> hidden]
    std::unique_ptr<Linear> gateUp;          // [hidden -> 2 * intermediate]
    std::unique_ptr<Linear> down;            // [intermediate -> hidden]
    std::unique_ptr<FusedMoe> moe;           // a mixture-of-experts layer's MLP instead
};

namespace {

at::Tensor floatBuffer(int64_t rows, int64_t cols)
{
    return at::empty({rows, cols}, at::kFloat);
}

// x += y over n floats.
void addInPlace(float *x, const float *y, int64_t n)
{
    for (int64_t i = 0; i < n; ++i)
        x[i] += y[i];
}

// HF "rotate half" RoPE on one head vector in place, with the position's cos/sin rows.
void rotate(float *x, const float *cos, const float *sin, int64_t d)
{
    const int64_t half = d / 2;
    for (int64_t i = 0; i < half; ++i) {
        const float a = x[i], b = x[i + half];
        x[i] = a * cos[i] - b * sin[i];
        x[i + half] = b * cos[i + half] + a * sin[i + half];
    }
}

// Attention of `queries` query heads sharing one KV head over positions 0..S-1, with
// gemma2's soft-capped scores: cap * tanh(q·k · scale / cap). Layout as kernels::attention_rows;
// scores: scratch [queries][S].
void softcappedAttentionRows(const float *q, int64_t queries, const float *keysT, int64_t ldk, const float *values,
                             int64_t S, int64_t D, float scale, float cap, float *scores, float *out)
{
    for (int64_t h = 0; h < queries; ++h) {
        const float *qh = q + h * D;
        float *sc = scores + h * S;
        float maxScore = -INFINITY;
        for (int64_t s = 0; s < S; ++s)
            sc[s] = 0.0f;
        for (int64_t d = 0; d < D; ++d) {
            const float qd = qh[d];
            const float *kd = keysT + d * ldk;
            for (int64_t s = 0; s < S; ++s)
                sc[s] += qd * kd[s];
        }
        for (int64_t s = 0; s < S; ++s) {
            sc[s] = cap * std::tanh(sc[s] * scale / cap);
            maxScore = std::max(maxScore, sc[s]);
        }
        float sum = 0.0f;
        for (int64_t s = 0; s < S; ++s)
            sum += (sc[s] = std::exp(sc[s] - maxScore));
        float *o = out + h * D;
        for (int64_t d = 0; d < D; ++d)
            o[d] = 0.0f;
        for (int64_t s = 0; s < S; ++s) {
            const float p = sc[s] / sum;
            const float *v = values + s * D;
            for (int64_t d = 0; d < D; ++d)
                o[d] += p * v[d];
        }
    }
}

// A norm weight as the kernels use it: gemma's (1 + w) folded in once, in float32.
at::Tensor normWeight(const ModelConfig &config, const at::Tensor &w)
{
    return (config.arch().normPlusOne ? w + 1.0f : w).contiguous();
}

} // namespace

FusedCpuDecoder::FusedCpuDecoder(std::unique_ptr<ReferenceModel> model, int64_t batch, int64_t maxSeqLen, Int4Layout layout)
    : m_config(model->config())
{
    AWQ_CHECK(model->dtype() == at::kFloat && model->device().is_cpu(), UnsupportedModel,
              "the fused CPU decoder runs float32 models on the CPU; this one is ", c10::toString(model->dtype()),
              " on ", model->device().str());
    m_embed = model->embedWeight().contiguous();
    m_finalNorm = normWeight(m_config, model->finalNormWeight());
    // A quantized model's lm_head comes from an fp16 checkpoint: when its float32 copy is
    // exactly fp16, keep it as fp16 (half the bytes per token, identical products), or as
    // int8 when asked (lmHeadFormat(), `--lm-head int8`: a quarter of float32's bytes, the
    // logits moved by the rounding docs/quality.md measures) and the CPU has VNNI.
    bool quantized = false;
    for (int64_t i = 0; i < m_config.numLayers && !quantized; ++i)
        quantized = dynamic_cast<const QuantLinear *>(model->layer(i).linear(LinearRole::O)) != nullptr;
    if (quantized && lmHeadFormat() == LmHeadFormat::Int8 && Int8Linear::int8Available(m_config.hiddenSize))
        m_lmHead = std::make_unique<Int8Linear>(model->lmHeadWeight());
    else if (quantized && HalfLinear::isExactlyHalf(model->lmHeadWeight()))
        m_lmHead = std::make_unique<HalfLinear>(model->lmHeadWeight());
    else
        m_lmHead = std::make_unique<DenseLinear>(model->lmHeadWeight().contiguous());
    for (int64_t i = 0; i < m_config.numLayers; ++i) {
        DecoderLayer &src = model->layer(i);
        Layer layer;
        for (size_t r = 0; r < kNormRoleCount; ++r)
            if (src.norms[r].defined())
                layer.norms[r] = normWeight(m_config, src.norms[r]);
        // Stacked in the checkpoint already (phi3), or stacked here: one kernel call each.
        auto stacked = [&](LinearRole whole, std::initializer_list<LinearRole> parts) {
            if (src.linear(whole))
                return std::move(src.slot(whole));
            std::vector<const Linear *> linears;
            for (LinearRole r : parts)
                linears.push_back(src.linear(r));
            return stackOutputs(linears);
        };
        layer.qkv = stacked(LinearRole::Qkv, {LinearRole::Q, LinearRole::K, LinearRole::V});
        layer.o = std::move(src.slot(LinearRole::O));
        if (src.moe()) {
            layer.moe = std::make_unique<FusedMoe>(m_config, src, layout);
            m_repackedGemm = m_repackedGemm || layer.moe->repackedGemm();
        } else {
            layer.gateUp = stacked(LinearRole::GateUp, {LinearRole::Gate, LinearRole::Up});
            layer.down = std::move(src.slot(LinearRole::Down));
        }
        if (layout == Int4Layout::Gemv)
            for (std::unique_ptr<Linear> *linear : {&layer.qkv, &layer.gateUp, &layer.o, &layer.down})
                if (const auto *q = dynamic_cast<const QuantLinear *>(linear->get()))
                    if (auto repacked = repackedAsGemv(*q)) {
                        *linear = std::move(repacked);
                        m_repackedGemm = true;
                    }
        // The stacked copies replace the originals: free them layer by layer, and give their
        // memory back at once. Left to the allocator, each layer's freed gate and up stayed
        // resident as a hole it never reused: TinyLlama's FP32 build peaked 1.9 GiB above its
        // weights (docs/benchmarks.md).
        for (LinearRole r : {LinearRole::Q, LinearRole::K, LinearRole::V, LinearRole::Gate, LinearRole::Up})
            src.slot(r).reset();
        releaseFreeMemory();
        m_layers.push_back(std::move(layer));
    }
    model.reset();
    reset(batch, maxSeqLen > 0 ? maxSeqLen : m_config.maxPositionEmbeddings);
}

FusedCpuDecoder::~FusedCpuDecoder() = default;

FusedCpuDecoder::Buffers FusedCpuDecoder::makeBuffers(int64_t rows) const
{
    const ModelConfig &c = m_config;
    Buffers b;
    b.rows = rows;
    b.hidden = floatBuffer(rows, c.hiddenSize);
    b.normed = floatBuffer(rows, c.hiddenSize);
    b.qkv = floatBuffer(rows, (c.numHeads + 2 * c.numKvHeads) * c.headDim);
    b.attn = floatBuffer(rows, c.numHeads * c.headDim);
    b.attnOut = floatBuffer(rows, c.hiddenSize);
    b.gateUp = floatBuffer(rows, 2 * c.intermediateSize);
    b.act = floatBuffer(rows, c.intermediateSize);
    b.mlpOut = floatBuffer(rows, c.hiddenSize);
    return b;
}

void FusedCpuDecoder::reset(int64_t batch, int64_t maxSeqLen)
{
    const ModelConfig &c = m_config;
    AWQ_CHECK(batch >= 1 && maxSeqLen >= 1, InvalidArgument, "the fused decoder needs batch >= 1 and max_seq_len >= 1, got ",
              batch, " and ", maxSeqLen);
    // Release the old cache before allocating the new one (they may both be large).
    m_keys = m_values = at::Tensor();
    m_batch = batch;
    m_maxSeqLen = maxSeqLen;
    m_length = 0;
    m_keys = at::zeros({c.numLayers, batch, c.numKvHeads, c.headDim, maxSeqLen}, at::kFloat); // transposed
    m_values = at::zeros({c.numLayers, batch, c.numKvHeads, maxSeqLen, c.headDim}, at::kFloat);
    RotaryEmbedding rope(c);
    auto [cos, sin] = rope.cosSin(0, maxSeqLen);
    m_cos = cos.to(at::kFloat).contiguous();
    m_sin = sin.to(at::kFloat).contiguous();
    m_localCos = m_localSin = at::Tensor();
    if (c.ropeLocalTheta > 0) {
        RotaryEmbedding local(c, /*local=*/true);
        auto [localCos, localSin] = local.cosSin(0, maxSeqLen);
        m_localCos = localCos.to(at::kFloat).contiguous();
        m_localSin = localSin.to(at::kFloat).contiguous();
    }
    m_decode = makeBuffers(batch);
    m_scores = at::empty({batch, c.numHeads, maxSeqLen}, at::kFloat);
    m_lastHidden = floatBuffer(batch, c.hiddenSize);
    m_logits = floatBuffer(batch, c.vocabSize);
}

void FusedCpuDecoder::truncate(int64_t length)
{
    AWQ_CHECK(length >= 0 && length <= m_length, InvalidArgument, "cannot truncate a context of ", m_length,
              " tokens to ", length);
    m_length = length;
}

FusedCpuDecoder::Buffers *FusedCpuDecoder::runLayers(const at::Tensor &ids, Buffers &scratch)
{
    const ModelConfig &c = m_config;
    AWQ_CHECK(ids.dim() == 2 && ids.size(1) >= 1, InvalidArgument, "input ids must be [batch, tokens], got ",
              ids.sizes());
    AWQ_CHECK(ids.size(0) == m_batch, InvalidArgument, "a batch of ", ids.size(0),
              " sequences does not match the decoder's batch of ", m_batch);
    const int64_t t = ids.size(1);
    AWQ_CHECK(m_length + t <= m_maxSeqLen, InvalidArgument, "the context of ", m_length + t,
              " tokens exceeds the KV cache size of ", m_maxSeqLen, " tokens (raise the maximum context length)");
    const int64_t rows = m_batch * t;
    Buffers &buf = rows == m_decode.rows ? m_decode : (scratch = makeBuffers(rows));

    // Embedding rows, row r = b * t + i.
    const at::Tensor idsCpu = ids.scalar_type() == at::kLong && ids.device().is_cpu() ? ids : ids.to(at::kLong).cpu();
    const auto idx = idsCpu.accessor<int64_t, 2>();
    const float *embed = m_embed.data_ptr<float>();
    float *hidden = buf.hidden.data_ptr<float>();
    for (int64_t b = 0; b < m_batch; ++b)
        for (int64_t i = 0; i < t; ++i) {
            const int64_t id = idx[b][i];
            AWQ_CHECK(id >= 0 && id < c.vocabSize, InvalidArgument, "token id ", id, " is outside the vocabulary of ",
                      c.vocabSize);
            std::memcpy(hidden + (b * t + i) * c.hiddenSize, embed + id * c.hiddenSize, c.hiddenSize * sizeof(float));
        }
    if (c.arch().scaleEmbeddings) { // gemma: times sqrt(hidden) rounded to float32, as the unfused model
        const float normalizer = static_cast<float>(std::sqrt(static_cast<double>(c.hiddenSize)));
        for (int64_t j = 0; j < rows * c.hiddenSize; ++j)
            hidden[j] *= normalizer;
    }

    for (int64_t l = 0; l < c.numLayers; ++l)
        layerStep(m_layers[static_cast<size_t>(l)], l, buf, t);
    m_length += t;
    return &buf;
}

// Final norm of `rows` hidden rows (row stride hiddenSize, `stride` rows apart), lm_head
// into logits [rows, vocab], then gemma2's soft-capping.
void FusedCpuDecoder::head(const float *hidden, int64_t rows, int64_t stride, at::Tensor &normed, at::Tensor &logits)
{
    const ModelConfig &c = m_config;
    for (int64_t r = 0; r < rows; ++r)
        kernels::rms_norm(hidden + r * stride * c.hiddenSize, m_finalNorm.data_ptr<float>(), 1,
                          static_cast<int>(c.hiddenSize), static_cast<float>(c.rmsNormEps),
                          normed.data_ptr<float>() + r * c.hiddenSize, QuantLinear::isa());
    m_lmHead->forwardInto(normed, logits);
    if (c.finalLogitSoftcap > 0) {
        const float cap = static_cast<float>(c.finalLogitSoftcap);
        float *l = logits.data_ptr<float>();
        for (int64_t j = 0; j < rows * c.vocabSize; ++j)
            l[j] = cap * std::tanh(l[j] / cap);
    }
}

at::Tensor FusedCpuDecoder::prefill(const at::Tensor &ids)
{
    Buffers scratch;
    const int64_t t = ids.dim() == 2 ? ids.size(1) : 0;
    Buffers *buf = runLayers(ids, scratch);
    // Each sequence's last position: rows t-1, 2t-1, ... of the hidden states.
    head(buf->hidden.data_ptr<float>() + (t - 1) * m_config.hiddenSize, m_batch, t, m_lastHidden, m_logits);
    return m_logits;
}

at::Tensor FusedCpuDecoder::score(const at::Tensor &ids)
{
    m_length = 0;
    Buffers scratch;
    Buffers *buf = runLayers(ids, scratch);
    const int64_t rows = buf->rows;
    at::Tensor normed = at::empty({rows, m_config.hiddenSize}, at::kFloat);
    at::Tensor logits = at::empty({rows, m_config.vocabSize}, at::kFloat);
    head(buf->hidden.data_ptr<float>(), rows, 1, normed, logits);
    m_length = 0;
    return logits.view({m_batch, ids.size(1), m_config.vocabSize});
}

DecoderMemory FusedCpuDecoder::memory() const
{
    DecoderMemory m{weightBytes(), kvCacheBytes(), bufferBytes()};
    m.tokenWeightBytes = tokenWeightBytes();
    return m;
}

void FusedCpuDecoder::layerStep(Layer &layer, int64_t l, Buffers &buf, int64_t t)
{
    const ModelConfig &c = m_config;
    const kernels::CpuIsa isa = QuantLinear::isa();
    const int rows = static_cast<int>(buf.rows);
    const float eps = static_cast<float>(c.rmsNormEps);
    const int64_t hiddenFloats = buf.rows * c.hiddenSize;
    // The block as DecoderBlock::forward composes it (awq/nn/decoder_block.h), in place.
    auto normRows = [&](NormRole role, const at::Tensor &x, at::Tensor &out) {
        kernels::rms_norm(x.data_ptr<float>(), layer.norm(role).data_ptr<float>(), rows,
                          static_cast<int>(c.hiddenSize), eps, out.data_ptr<float>(), isa);
    };

    normRows(NormRole::Input, buf.hidden, buf.normed);
    layer.qkv->forwardInto(buf.normed, buf.qkv);
    attention(layer, l, buf, t);
    layer.o->forwardInto(buf.attn, buf.attnOut);
    if (layer.has(NormRole::AttnOut)) // gemma2: the attention output is normalised before the residual add
        normRows(NormRole::AttnOut, buf.attnOut, buf.attnOut);
    addInPlace(buf.hidden.data_ptr<float>(), buf.attnOut.data_ptr<float>(), hiddenFloats);

    normRows(NormRole::PreMlp, buf.hidden, buf.normed);
    if (layer.moe) {
        layer.moe->forward(buf.normed, buf.mlpOut);
    } else {
        layer.gateUp->forwardInto(buf.normed, buf.gateUp);
        gatedActivationRows(c, buf.gateUp.data_ptr<float>(), rows, c.intermediateSize, buf.act.data_ptr<float>());
        layer.down->forwardInto(buf.act, buf.mlpOut);
    }
    if (layer.has(NormRole::MlpOut))
        normRows(NormRole::MlpOut, buf.mlpOut, buf.mlpOut);
    addInPlace(buf.hidden.data_ptr<float>(), buf.mlpOut.data_ptr<float>(), hiddenFloats);
}

// (Per-head q/k norms where the architecture has them,) RoPE on q and k, k/v into the cache, then causal attention
// of every new position.
void FusedCpuDecoder::attention(const Layer &layer, int64_t l, Buffers &buf, int64_t t)
{
    const ModelConfig &c = m_config;
    const int64_t H = c.numHeads, Hkv = c.numKvHeads, D = c.headDim, group = H / Hkv;
    const int64_t qkvWidth = (H + 2 * Hkv) * D;
    float *qkv = buf.qkv.data_ptr<float>();
    const bool local = c.localRope(l); // gemma3's sliding layers have their own RoPE base
    const float *cos = (local ? m_localCos : m_cos).data_ptr<float>();
    const float *sin = (local ? m_localSin : m_sin).data_ptr<float>();
    // Keys are cached transposed ([D][maxSeqLen] per head, see attention_rows), values as rows.
    float *keys = m_keys[l].data_ptr<float>(), *values = m_values[l].data_ptr<float>();
    const int64_t seqStride = m_maxSeqLen * D, batchStride = Hkv * seqStride;

    for (int64_t b = 0; b < m_batch; ++b)
        for (int64_t i = 0; i < t; ++i) {
            const int64_t pos = m_length + i;
            float *row = qkv + (b * t + i) * qkvWidth;
            const float eps = static_cast<float>(c.rmsNormEps);
            if (layer.has(NormRole::QHead)) // query heads: rows of D, normalised in place
                kernels::rms_norm(row, layer.norm(NormRole::QHead).data_ptr<float>(), static_cast<int>(H),
                                  static_cast<int>(D), eps, row, QuantLinear::isa());
            if (layer.has(NormRole::KHead))
                kernels::rms_norm(row + H * D, layer.norm(NormRole::KHead).data_ptr<float>(), static_cast<int>(Hkv),
                                  static_cast<int>(D), eps, row + H * D, QuantLinear::isa());
            for (int64_t h = 0; h < H + Hkv; ++h) // query heads, then key heads
                rotate(row + h * D, cos + pos * D, sin + pos * D, D);
            for (int64_t kh = 0; kh < Hkv; ++kh) {
                float *kT = keys + b * batchStride + kh * seqStride + pos;
                const float *k = row + (H + kh) * D;
                for (int64_t d = 0; d < D; ++d)
                    kT[d * m_maxSeqLen] = k[d];
                float *v = values + b * batchStride + kh * seqStride + pos * D;
                std::memcpy(v, row + (H + Hkv + kh) * D, D * sizeof(float));
            }
        }

    // One task per (sequence, KV head, new position): its `group` query heads attend to
    // positions 0..pos. Decode (t = 1) uses the preallocated scores; prefill a scratch per task range.
    const float scale = static_cast<float>(c.attentionScale());
    const float softcap = static_cast<float>(c.attnLogitSoftcap);
    const int64_t window = c.attentionWindow(l); // sliding layers see the last `window` positions
    const kernels::CpuIsa isa = QuantLinear::isa();
    float *attn = buf.attn.data_ptr<float>();
    float *decodeScores = t == 1 ? m_scores.data_ptr<float>() : nullptr;
    const int64_t tasks = m_batch * Hkv * t;
    at::parallel_for(0, tasks, 1, [&](int64_t t0, int64_t t1) {
        std::vector<float> scratch;
        if (!decodeScores)
            scratch.resize(static_cast<size_t>(group * (m_length + t)));
        for (int64_t task = t0; task < t1; ++task) {
            const int64_t i = task % t, kh = (task / t) % Hkv, b = task / (t * Hkv);
            const int64_t row = b * t + i, S = m_length + i + 1;
            const int64_t first = window > 0 ? std::max<int64_t>(0, S - window) : 0;
            float *scores = decodeScores ? decodeScores + (b * H + kh * group) * m_maxSeqLen : scratch.data();
            const float *q = qkv + row * qkvWidth + kh * group * D;
            const float *keysT = keys + b * batchStride + kh * seqStride + first;
            const float *vals = values + b * batchStride + kh * seqStride + first * D;
            float *out = attn + row * H * D + kh * group * D;
            if (softcap > 0)
                softcappedAttentionRows(q, group, keysT, m_maxSeqLen, vals, S - first, D, scale, softcap, scores, out);
            else
                kernels::attention_rows(q, static_cast<int>(group), keysT, m_maxSeqLen, vals, D,
                                        static_cast<int>(S - first), static_cast<int>(D), scale, scores, out, isa);
        }
    });
}

uint64_t FusedCpuDecoder::weightBytes() const
{
    const auto *dense = dynamic_cast<const DenseLinear *>(m_lmHead.get());
    const bool tied = dense && dense->weight().data_ptr() == m_embed.data_ptr();
    uint64_t total = m_embed.nbytes() + m_finalNorm.nbytes() + (tied ? 0 : m_lmHead->weightBytes());
    for (const Layer &l : m_layers) {
        for (const at::Tensor &n : l.norms)
            total += n.defined() ? n.nbytes() : 0;
        total += l.qkv->weightBytes() + l.o->weightBytes();
        total += l.moe ? l.moe->weightBytes() : l.gateUp->weightBytes() + l.down->weightBytes();
    }
    return total;
}

uint64_t FusedCpuDecoder::tokenWeightBytes() const
{
    uint64_t total = m_finalNorm.nbytes() + m_lmHead->weightBytes() + m_embed[0].nbytes();
    for (const Layer &l : m_layers) {
        for (const at::Tensor &n : l.norms)
            total += n.defined() ? n.nbytes() : 0;
        total += l.qkv->weightBytes() + l.o->weightBytes();
        total += l.moe ? l.moe->tokenWeightBytes() : l.gateUp->weightBytes() + l.down->weightBytes();
    }
    return total;
}

uint64_t FusedCpuDecoder::kvCacheBytes() const
{
    return m_keys.nbytes() + m_values.nbytes();
}

uint64_t FusedCpuDecoder::bufferBytes() const
{
    const Buffers &b = m_decode;
    return b.hidden.nbytes() + b.normed.nbytes() + b.qkv.nbytes() + b.attn.nbytes() + b.attnOut.nbytes() +
           b.gateUp.nbytes() + b.act.nbytes() + b.mlpOut.nbytes() + m_scores.nbytes() + m_lastHidden.nbytes() +
           m_logits.nbytes();
}

std::string FusedCpuDecoder::describe() const
{
    std::string linear = m_layers.empty() ? std::string() : ", linears " + m_layers.front().qkv->describe();
    if (m_repackedGemm)
        linear += " (repacked from the checkpoint's gemm)";
    for (const Layer &l : m_layers)
        if (l.moe) {
            linear += ", " + l.moe->describe();
            break;
        }
    return m_config.modelType + ", " + std::to_string(m_config.numLayers) + " layers, fused float32 on cpu" + linear +
           ", lm_head " + m_lmHead->describe();
}

} // namespace awq
