#pragma once
// CudaDecoder: the GPU backend of the decoder interface (awq/runtime/decoder_model.h), written
// against the CUDA runtime and cuBLAS directly (not ATen's CUDA side), so that it compiles and
// links on any machine with the CUDA toolkit, whatever LibTorch it has.
//
// - fp16 activations, an fp32 residual stream; q/k/v stacked into one linear, gate/up into one;
// - int4 linears stay packed as the checkpoint stores them and run on our kernels
//   (kernels/cuda): few rows on the packing's decode kernel, prefill dequantized into a
//   workspace and multiplied by cuBLAS; fp16 linears and the lm_head by cuBLAS
//   (the choice per linear and row count: awq/cuda/decoder_plan.h);
// - RMSNorm (the residual add fused in), per-head q/k norms, RoPE, the KV-cache write,
//   attention (GQA, soft-capping, sliding windows) and the gated activation are our kernels;
// - the fp16 KV cache and the decode buffers are allocated by reset(): a decode step
//   allocates nothing and synchronises once, to hand the logits back.
//
// Built from a ReferenceModel loaded in float32 on the CPU (int4 linears packed: the
// loader's default target), whose weights it takes over and uploads. Not thread-safe.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/Tensor.h>

#include "awq/cuda/decoder_plan.h"
#include "awq/runtime/decoder_model.h"

namespace awq {

class ReferenceModel;

class CudaDecoder final : public DecoderModel
{
public:
    // device: the CUDA device index. maxSeqLen 0: the model's max_position_embeddings.
    // Throws Error(UnsupportedModel) for a model that is not float32 on the CPU or whose
    // shapes the kernels cannot take, Error(Device) when the device cannot be used,
    // Error(OutOfMemory) when the weights or the cache do not fit.
    CudaDecoder(std::unique_ptr<ReferenceModel> model, int device, int64_t batch = 1, int64_t maxSeqLen = 0);
    ~CudaDecoder() override;

    const ModelConfig &config() const override;
    std::string describe() const override;
    std::string device() const override;
    void reset(int64_t batch, int64_t maxSeqLen) override;
    void truncate(int64_t length) override;
    int64_t length() const override;
    int64_t batch() const override;
    int64_t maxSeqLen() const override;
    at::Tensor prefill(const at::Tensor &ids) override;
    // Grows the cache when ids are longer or wider than it (a score needs no earlier context).
    at::Tensor score(const at::Tensor &ids) override;
    DecoderMemory memory() const override;

    // The linears as held, per layer (what the plan decides from).
    std::vector<cuda::LayerLinears> linearSpecs() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

} // namespace awq
