#pragma once
// The mixture-of-experts MLP of the fused CPU decoder (awq/nn/fused_cpu_decoder.h), as
// DecoderBlock's reference composes it (awq/nn/decoder_block.h): router logits in float32,
// softmax, each token's top-k experts (renormalised when the config says so), each expert
// a stacked gate/up linear, the activation and down, plus qwen2_moe's shared expert times
// sigmoid(shared gate). Only the experts a token is routed to are read: a decode step
// reads k of them; prefill groups the rows by expert and runs each expert once over its
// rows. Scratch buffers grow to the largest row count seen and are reused, so decode
// steps allocate no tensor storage. Private to the engine.

#include <cstdint>
#include <memory>
#include <vector>

#include <ATen/Tensor.h>

#include "awq/model/config.h"
#include "awq/nn/decoder_block.h"
#include "awq/nn/fused_cpu_decoder.h"
#include "awq/nn/linear.h"

namespace awq {

// out[r][i] = act(gateUp[r][i]) * gateUp[r][n + i] over `rows` rows of 2n, with the
// config's activation (SiLU, or gemma's tanh GELU).
void gatedActivationRows(const ModelConfig &config, const float *gateUp, int64_t rows, int64_t n, float *out);

class FusedMoe
{
public:
    // Takes the layer's router, experts and shared expert out of `src`, stacking each
    // expert's gate and up (and repacking GEMM int4 to GEMV when `layout` asks).
    FusedMoe(const ModelConfig &config, DecoderLayer &src, Int4Layout layout);
    ~FusedMoe();

    // out [rows, hidden] = the block's MLP output for x [rows, hidden] (float32, contiguous).
    void forward(const at::Tensor &x, at::Tensor &out);

    uint64_t weightBytes() const;    // every expert, the router, the shared expert
    uint64_t tokenWeightBytes() const; // what one token reads: the router, k experts, the shared expert
    bool repackedGemm() const { return m_repackedGemm; }
    std::string describe() const;    // "8 experts, top 2"

private:
    struct Mlp {
        std::unique_ptr<Linear> gateUp; // [hidden -> 2 * width]
        std::unique_ptr<Linear> down;   // [width -> hidden]
        int64_t width = 0;
    };
    Mlp takeMlp(LinearsByRole &linears, int64_t width, Int4Layout layout);
    // y [rows, hidden] = mlp(x [rows, hidden]).
    void runMlp(const Mlp &mlp, const at::Tensor &x, at::Tensor &y);
    void reserve(int64_t rows);

    ModelConfig m_config;
    std::unique_ptr<Linear> m_router, m_sharedGate;
    std::vector<Mlp> m_experts;
    Mlp m_shared;
    bool m_repackedGemm = false;
    // Scratch, grown on demand.
    int64_t m_capacity = 0;
    at::Tensor m_logits, m_gathered, m_expertOut, m_gateUp, m_act, m_sharedGateOut;
    std::vector<int64_t> m_rowsOf;   // rows routed to each expert, expert-major
    std::vector<float> m_weightOf;   // their routing weights
    std::vector<int64_t> m_chosen;       // each row's k experts, row-major
    std::vector<float> m_chosenWeight;
    std::vector<int64_t> m_count, m_offset, m_fill;
    std::vector<std::pair<float, int64_t>> m_ranked;
};

} // namespace awq
