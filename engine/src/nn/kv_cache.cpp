#include "awq/nn/kv_cache.h"

#include <ATen/ATen.h>

#include "awq/core/error.h"

namespace awq {

KVCache::KVCache(const ModelConfig &config, int64_t batch, int64_t maxSeqLen, c10::ScalarType dtype, c10::Device device)
    : m_batch(batch), m_maxSeqLen(maxSeqLen)
{
    AWQ_CHECK(batch >= 1 && maxSeqLen >= 1, InvalidArgument, "KV cache needs batch >= 1 and max_seq_len >= 1, got ",
              batch, " and ", maxSeqLen);
    auto options = at::TensorOptions().dtype(dtype).device(device);
    for (int64_t l = 0; l < config.numLayers; ++l) {
        m_keys.push_back(at::zeros({batch, config.numKvHeads, maxSeqLen, config.headDim}, options));
        m_values.push_back(at::zeros({batch, config.numKvHeads, maxSeqLen, config.headDim}, options));
    }
}

void KVCache::truncate(int64_t length)
{
    AWQ_CHECK(length >= 0 && length <= m_length, InvalidArgument, "cannot truncate a KV cache of ", m_length,
              " tokens to ", length);
    m_length = length;
}

std::pair<at::Tensor, at::Tensor> KVCache::append(int64_t layer, const at::Tensor &k, const at::Tensor &v)
{
    AWQ_ASSERT(layer >= 0 && layer < static_cast<int64_t>(m_keys.size()), "bad layer index ", layer);
    const int64_t t = k.size(2);
    AWQ_CHECK(k.size(0) == m_batch, InvalidArgument, "batch of ", k.size(0), " does not match the KV cache batch of ",
              m_batch);
    AWQ_CHECK(m_length + t <= m_maxSeqLen, InvalidArgument, "the context of ", m_length + t,
              " tokens exceeds the KV cache size of ", m_maxSeqLen, " tokens (raise the maximum context length)");
    m_keys[layer].narrow(2, m_length, t).copy_(k);
    m_values[layer].narrow(2, m_length, t).copy_(v);
    return {m_keys[layer].narrow(2, 0, m_length + t), m_values[layer].narrow(2, 0, m_length + t)};
}

void KVCache::advance(int64_t tokens)
{
    AWQ_ASSERT(m_length + tokens <= m_maxSeqLen, "KV cache advanced past its end");
    m_length += tokens;
}

uint64_t KVCache::bytes() const
{
    uint64_t total = 0;
    for (size_t i = 0; i < m_keys.size(); ++i)
        total += m_keys[i].nbytes() + m_values[i].nbytes();
    return total;
}

} // namespace awq
