#pragma once
// DecoderModel: the one interface every consumer runs a model through — Generator, ChatModel,
// perplexity, the benchmark runner and the server. A backend owns its weights, its KV cache
// and its buffers; nothing above this interface knows which backend runs.
//
// Backends: FusedCpuDecoder (awq/nn/fused_cpu_decoder.h: int4 kernels, float32 on the
// CPU, what chat and generate use), ReferenceDecoder (below: the reference model with a KV
// cache, any dtype and device: the oracle), CudaDecoder (awq/nn/cuda_decoder.h: fp16 on a
// GPU, int4 kernels on the packed weights; in builds against a CUDA LibTorch).
//
// Not thread-safe: one thread drives a decoder at a time.

#include <cstdint>
#include <memory>
#include <string>

#include <ATen/Tensor.h>

#include "awq/model/config.h"
#include "awq/nn/linear.h"

namespace awq {

class KVCache;
class ReferenceModel;

// Bytes a decoder holds, by kind.
struct DecoderMemory {
    uint64_t weightBytes = 0; // every linear, norm, embedding and the lm_head as held
    uint64_t kvCacheBytes = 0;
    uint64_t bufferBytes = 0; // activation workspace
    // Weight bytes one decode step reads per sequence: every layer's linears and norms (of a
    // MoE layer the router and the k routed experts only), the lm_head and one embedding
    // row. What a decode roofline divides the bandwidth by; 0 where a backend does not say.
    uint64_t tokenWeightBytes = 0;
    uint64_t total() const { return weightBytes + kvCacheBytes + bufferBytes; }
};

class DecoderModel
{
public:
    virtual ~DecoderModel() = default;

    virtual const ModelConfig &config() const = 0;
    virtual std::string describe() const = 0; // "llama, 22 layers, fused float32 on cpu, linears ..."
    virtual std::string device() const = 0;   // "cpu", "cuda:0"

    // Sizes the KV cache for `batch` sequences of up to `maxSeqLen` tokens (0: the model's
    // max_position_embeddings) and forgets the context.
    virtual void reset(int64_t batch, int64_t maxSeqLen) = 0;
    // Drops cached positions from `length` on (regenerating a reply keeps the prompt).
    virtual void truncate(int64_t length) = 0;
    virtual int64_t length() const = 0; // positions in the cache
    virtual int64_t batch() const = 0;
    virtual int64_t maxSeqLen() const = 0;

    // ids [batch, T] int64, T >= 1: runs positions length() .. length()+T-1 and returns the
    // last position's logits [batch, vocab] float32 on the CPU. The tensor may be a view of
    // an internal buffer that the next call overwrites. Throws Error(InvalidArgument) when
    // the batch differs from reset()'s or the context would pass maxSeqLen().
    virtual at::Tensor prefill(const at::Tensor &ids) = 0;
    // The same for T == 1 (a backend may take a faster path).
    virtual at::Tensor decodeStep(const at::Tensor &ids) { return prefill(ids); }
    // Logits of every position [batch, T, vocab] float32 on the CPU for ids [batch, T] run
    // from an empty context (perplexity); leaves the context empty.
    virtual at::Tensor score(const at::Tensor &ids) = 0;

    virtual DecoderMemory memory() const = 0;
};

// The reference model behind the interface, with a KVCache in the model's dtype on its device.
class ReferenceDecoder final : public DecoderModel
{
public:
    explicit ReferenceDecoder(std::unique_ptr<ReferenceModel> model, int64_t batch = 1, int64_t maxSeqLen = 1);
    // Runs a model owned elsewhere (tests and tools that keep using it), which must outlive this.
    explicit ReferenceDecoder(ReferenceModel &model, int64_t batch = 1, int64_t maxSeqLen = 1);
    ~ReferenceDecoder() override;

    const ModelConfig &config() const override;
    std::string describe() const override;
    std::string device() const override;
    void reset(int64_t batch, int64_t maxSeqLen) override;
    void truncate(int64_t length) override;
    int64_t length() const override;
    int64_t batch() const override { return m_batch; }
    int64_t maxSeqLen() const override { return m_maxSeqLen; }
    at::Tensor prefill(const at::Tensor &ids) override;
    at::Tensor score(const at::Tensor &ids) override;
    DecoderMemory memory() const override;

    ReferenceModel &model() { return *m_model; }

private:
    std::unique_ptr<ReferenceModel> m_owned;
    ReferenceModel *m_model = nullptr;
    std::unique_ptr<KVCache> m_cache;
    int64_t m_batch = 0, m_maxSeqLen = 0;
};

// Which backend runs a model loaded for inference.
enum class DecoderKind {
    Fused,    // FusedCpuDecoder on the CPU (float32, int4 kernels), CudaDecoder on a GPU (fp16, int4
              // kernels); a GPU falls back to Reference in a build without the CUDA decoder
    Reference // ReferenceDecoder: the reference model in its dtype on its device
};

// Whether this build has the CUDA decoder (nvcc and a CUDA LibTorch at build time).
bool cudaDecoderBuilt();

// How to load a model that `kind` will run on `device` ("cpu", "cuda:N"): float32 on the
// CPU for the fused decoders (int4 linears stay packed; the CUDA decoder uploads them), fp16
// on the GPU for the reference decoder there.
TensorTarget loadTargetFor(const std::string &device, DecoderKind kind);

// Wraps a loaded reference model (on its device) in the backend `kind` asks for. gemvLayout: the fused
// CPU decoder repacks GEMM-packed int4 linears to the GEMV packing (chat and generate; the
// benchmark keeps each packing as stored). The model must have been loaded with
// loadTargetFor(device, kind) (makeDecoderOn). Throws Error(Device) for a device this build cannot use.
std::unique_ptr<DecoderModel> makeDecoder(std::unique_ptr<ReferenceModel> model, DecoderKind kind,
                                          bool gemvLayout = true, int64_t batch = 1, int64_t maxSeqLen = 1);
// The same for a device ("cpu", "cuda:N"; a name of its own: a string literal would convert to
// the bool above).
std::unique_ptr<DecoderModel> makeDecoderOn(const std::string &device, std::unique_ptr<ReferenceModel> model,
                                            DecoderKind kind, bool gemvLayout = true, int64_t batch = 1,
                                            int64_t maxSeqLen = 1);

} // namespace awq
