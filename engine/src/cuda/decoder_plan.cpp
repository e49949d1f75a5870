#include "awq/cuda/decoder_plan.h"

#include <algorithm>
#include <cstdio>

#include "awq/core/error.h"
#include "awq/kernels/awq_format.h"
#include "awq/kernels/awq_gemm_gemv_split.h"

namespace awq::cuda {

namespace {

constexpr uint64_t kHalf = 2, kFloat = 4, kInt32 = 4;

uint64_t u(int64_t v)
{
    return static_cast<uint64_t>(v);
}

bool gemvGroupSupported(int64_t group)
{
    return group == 32 || group == 64 || group >= 128;
}

} // namespace

const char *formatName(WeightFormat format)
{
    switch (format) {
    case WeightFormat::Half: return "fp16";
    case WeightFormat::Int4Gemm: return "int4 gemm";
    case WeightFormat::Int4Gemv: return "int4 gemv";
    }
    return "?";
}

const char *pathName(LinearPath path)
{
    switch (path) {
    case LinearPath::Cublas: return "cublas";
    case LinearPath::GemvDecode: return "gemv-decode";
    case LinearPath::GemmDecode: return "gemm-decode";
    case LinearPath::DequantCublas: return "dequant+cublas";
    }
    return "?";
}

std::string LinearLaunch::describe() const
{
    char buf[128];
    std::snprintf(buf, sizeof buf, "%s, %lld call%s of %lld rows, %.1f MiB workspace", pathName(path),
                  static_cast<long long>(calls), calls == 1 ? "" : "s", static_cast<long long>(rowsPerCall),
                  static_cast<double>(workspaceBytes) / (1024.0 * 1024.0));
    return buf;
}

void checkLinear(const LinearSpec &l, const std::string &name)
{
    AWQ_CHECK(l.in > 0 && l.out > 0, UnsupportedModel, name, ": a linear of ", l.in, " -> ", l.out,
              " features cannot run on the GPU");
    if (l.format == WeightFormat::Half)
        return;
    AWQ_CHECK(l.group > 0 && l.in % l.group == 0, UnsupportedModel, name, ": ", l.in,
              " input features are not a multiple of the group size ", l.group);
    AWQ_CHECK(l.in <= (1LL << 30) && l.out <= (1LL << 30), UnsupportedModel, name, ": too large for the int4 kernels");
    if (l.format == WeightFormat::Int4Gemm)
        AWQ_CHECK(l.out % 8 == 0, UnsupportedModel, name, ": the GEMM packing needs output features divisible by 8, got ",
                  l.out);
    if (l.format == WeightFormat::Int4Gemv) {
        AWQ_CHECK(l.in % 8 == 0, UnsupportedModel, name,
                  ": the GEMV kernel needs input features divisible by 8, got ", l.in);
        AWQ_CHECK(gemvGroupSupported(l.group), UnsupportedModel, name, ": the GEMV packing has group sizes 32, 64 or >= 128, not ",
                  l.group);
    }
}

LinearLaunch planLinear(const LinearSpec &l, int64_t rows)
{
    AWQ_CHECK(rows >= 1, InvalidArgument, "a linear runs at least one row, got ", rows);
    LinearLaunch launch;
    launch.rowsPerCall = rows;
    if (l.format == WeightFormat::Half)
        return launch;
    if (rows <= kDecodeKernelRowLimit) {
        launch.path = l.format == WeightFormat::Int4Gemv ? LinearPath::GemvDecode : LinearPath::GemmDecode;
        launch.rowsPerCall = std::min(rows, kDecodeKernelRowsPerCall);
        launch.calls = (rows + kDecodeKernelRowsPerCall - 1) / kDecodeKernelRowsPerCall;
        if (launch.path == LinearPath::GemmDecode) // the calls run one after another on one stream: one workspace
            launch.workspaceBytes = kernels::gemm_gemv_workspace_bytes(
                static_cast<int>(launch.rowsPerCall), static_cast<int>(l.in), static_cast<int>(l.out),
                static_cast<int>(l.group), static_cast<int>(kDecodeKernelRowsPerCall));
        return launch;
    }
    launch.path = LinearPath::DequantCublas;
    launch.workspaceBytes = u(l.in) * u(l.out) * kHalf;
    return launch;
}

uint64_t weightBytes(const LinearSpec &l)
{
    const uint64_t bias = l.bias ? u(l.out) * kHalf : 0;
    switch (l.format) {
    case WeightFormat::Half: return u(l.in) * u(l.out) * kHalf + bias;
    case WeightFormat::Int4Gemm: {
        const uint64_t groups = u(l.in / l.group);
        return u(l.in) * u(l.out / 8) * kInt32 + groups * u(l.out / 8) * kInt32 + groups * u(l.out) * kHalf + bias;
    }
    case WeightFormat::Int4Gemv: {
        const uint64_t zw = u(kernels::gemvZerosWidth(static_cast<int>(l.in), static_cast<int>(l.group)));
        return u(l.out) * u(l.in / 8) * kInt32 + u(l.out) * zw * kInt32 + u(l.out) * zw * 8 * kHalf + bias;
    }
    }
    return 0;
}

LayerLinears layerLinears(const ModelConfig &c, WeightFormat format, int64_t group)
{
    const int64_t qkvOut = (c.numHeads + 2 * c.numKvHeads) * c.headDim;
    LayerLinears l;
    l.qkv = {format, c.hiddenSize, qkvOut, group, c.attentionBias};
    l.o = {format, c.numHeads * c.headDim, c.hiddenSize, group, false};
    l.gateUp = {format, c.hiddenSize, 2 * c.intermediateSize, group, c.mlpBias};
    l.down = {format, c.intermediateSize, c.hiddenSize, group, c.mlpBias};
    if (format == WeightFormat::Half)
        for (LinearSpec *s : {&l.qkv, &l.o, &l.gateUp, &l.down})
            s->group = 0;
    return l;
}

WeightFormat checkpointFormat(const ModelConfig &config)
{
    if (!config.quantization.present)
        return WeightFormat::Half;
    return config.quantization.version == "gemv" ? WeightFormat::Int4Gemv : WeightFormat::Int4Gemm;
}

ActivationBytes activationBytes(const ModelConfig &c, int64_t rows, int64_t logitRows)
{
    ActivationBytes a;
    const uint64_t r = u(rows);
    a.hidden = r * u(c.hiddenSize) * kFloat;
    a.normed = r * u(c.hiddenSize) * kHalf;
    a.qkv = r * u((c.numHeads + 2 * c.numKvHeads) * c.headDim) * kHalf;
    a.attn = r * u(c.numHeads * c.headDim) * kHalf;
    a.attnOut = r * u(c.hiddenSize) * kHalf;
    a.gateUp = r * u(2 * c.intermediateSize) * kHalf;
    a.act = r * u(c.intermediateSize) * kHalf;
    a.ids = r * kInt32;
    a.logits = u(logitRows) * (u(c.vocabSize) * kFloat + u(c.hiddenSize) * kHalf);
    return a;
}

uint64_t kvCacheBytes(const ModelConfig &c, int64_t batch, int64_t maxSeqLen)
{
    return 2 * u(c.numLayers) * u(batch) * u(c.numKvHeads) * u(maxSeqLen) * u(c.headDim) * kHalf;
}

uint64_t workspaceBytes(const std::vector<LayerLinears> &layers, int64_t rows)
{
    uint64_t most = 0;
    for (const LayerLinears &layer : layers)
        for (const LinearSpec *l : layer.all())
            most = std::max(most, planLinear(*l, rows).workspaceBytes);
    return most;
}

uint64_t modelWeightBytes(const ModelConfig &c, const std::vector<LayerLinears> &layers, int64_t maxSeqLen)
{
    const uint64_t embed = u(c.vocabSize) * u(c.hiddenSize) * kHalf;
    uint64_t total = embed + (c.tieWordEmbeddings ? 0 : embed);
    total += u(c.hiddenSize) * kFloat; // final norm
    total += 2 * u(maxSeqLen) * u(c.headDim) * kFloat; // RoPE cos and sin tables
    const Architecture &arch = c.arch();
    uint64_t norms = 0;
    for (const NormSlot &n : arch.norms)
        norms += (n.role == NormRole::QHead || n.role == NormRole::KHead ? u(c.headDim) : u(c.hiddenSize)) * kFloat;
    for (const LayerLinears &layer : layers) {
        total += norms;
        for (const LinearSpec *l : layer.all())
            total += weightBytes(*l);
    }
    return total;
}

MemoryEstimate estimateMemory(const ModelConfig &config, const std::vector<LayerLinears> &layers, int64_t batch,
                              int64_t maxSeqLen, int64_t prefillRows)
{
    AWQ_CHECK(batch >= 1 && maxSeqLen >= 1 && prefillRows >= 1, InvalidArgument,
              "a memory estimate needs batch, context and rows >= 1, got ", batch, ", ", maxSeqLen, " and ", prefillRows);
    MemoryEstimate m;
    m.weights = modelWeightBytes(config, layers, maxSeqLen);
    m.kvCache = kvCacheBytes(config, batch, maxSeqLen);
    // The decode buffers (batch rows) stay allocated beside the largest prefill's.
    m.activations = activationBytes(config, batch, batch).total() + activationBytes(config, prefillRows, batch).total();
    m.workspace = std::max(workspaceBytes(layers, batch), workspaceBytes(layers, prefillRows));
    return m;
}

MemoryEstimate estimateMemory(const ModelConfig &config, WeightFormat format, int64_t group, int64_t batch,
                              int64_t maxSeqLen, int64_t prefillRows)
{
    return estimateMemory(config, std::vector<LayerLinears>(u(config.numLayers), layerLinears(config, format, group)),
                          batch, maxSeqLen, prefillRows);
}

int parseCudaDevice(const std::string &device)
{
    const std::string prefix = "cuda:";
    if (device == "cuda")
        return 0;
    AWQ_CHECK(device.rfind(prefix, 0) == 0 && device.size() > prefix.size() && device.size() <= prefix.size() + 3 &&
                  device.find_first_not_of("0123456789", prefix.size()) == std::string::npos,
              Device, "'", device, "' is not a CUDA device (expected cuda:N)");
    return std::stoi(device.substr(prefix.size()));
}

} // namespace awq::cuda
