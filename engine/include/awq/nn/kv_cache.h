#pragma once
// Key/value cache for incremental decoding, preallocated for (batch, max_seq_len)
// so that decoding allocates nothing per token. Not thread-safe.

#include <vector>

#include <ATen/Tensor.h>

#include "awq/model/config.h"

namespace awq {

class KVCache
{
public:
    KVCache(const ModelConfig &config, int64_t batch, int64_t maxSeqLen, c10::ScalarType dtype = c10::kFloat,
            c10::Device device = c10::kCPU);

    int64_t batch() const { return m_batch; }
    int64_t maxSeqLen() const { return m_maxSeqLen; }
    int64_t length() const { return m_length; } // tokens already cached
    void reset() { m_length = 0; }
    // Drops cached positions from `length` on (e.g. to regenerate a reply).
    void truncate(int64_t length);

    // Writes k/v [B, Hkv, T, D] of `layer` at positions length()..length()+T-1 and
    // returns views over positions 0..length()+T-1. Throws Error(InvalidArgument)
    // when the cache would overflow.
    std::pair<at::Tensor, at::Tensor> append(int64_t layer, const at::Tensor &k, const at::Tensor &v);
    // Called once per forward, after every layer appended T positions.
    void advance(int64_t tokens);
    uint64_t bytes() const;

private:
    int64_t m_batch, m_maxSeqLen, m_length = 0;
    std::vector<at::Tensor> m_keys, m_values; // per layer [B, Hkv, maxSeqLen, D]
};

} // namespace awq
