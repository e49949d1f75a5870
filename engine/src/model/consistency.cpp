#include "awq/model/consistency.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "awq/arch/architecture.h"
#include "awq/core/error.h"
#include "awq/io/safetensors.h"
#include "awq/kernels/awq_unpack.h"

namespace awq {

namespace {

std::string shapeText(const std::vector<int64_t> &shape)
{
    std::ostringstream out;
    out << '[';
    for (size_t i = 0; i < shape.size(); ++i)
        out << (i ? ", " : "") << shape[i];
    out << ']';
    return out.str();
}

// The packed tensors' expected dtype and shape: {name suffix, safetensors dtype, shape}.
struct Expected {
    const char *suffix;
    const char *dtype;
    std::vector<int64_t> shape;
};

} // namespace

bool excludedFromQuantization(const std::string &linearName, const std::vector<std::string> &modulesToNotConvert)
{
    return std::any_of(modulesToNotConvert.begin(), modulesToNotConvert.end(),
                       [&](const std::string &p) { return !p.empty() && linearName.find(p) != std::string::npos; });
}

std::vector<std::string> fullPrecisionModules(const ModelConfig &c)
{
    // The relative names ("block_sparse_moe.gate") match no other linear of these models,
    // unless a dense layer's "mlp.gate_proj" contains "mlp.gate": then each router is named
    // in full ("model.layers.3.mlp.gate").
    std::vector<std::string> relative, full;
    bool denseLayer = false;
    for (int64_t layer = 0; layer < c.numLayers; ++layer) {
        denseLayer = denseLayer || !c.isMoeLayer(layer);
        for (const LayerTensor &t : layerTensors(c, layer)) {
            if (!t.linear || !alwaysFullPrecision(t.linearRole))
                continue;
            full.push_back(t.name);
            if (std::find(relative.begin(), relative.end(), t.relativeName) == relative.end())
                relative.push_back(t.relativeName);
        }
    }
    return denseLayer ? full : relative;
}

std::vector<std::string> quantizationProblems(const ModelConfig &c, const WeightStore &store,
                                              const std::string &configFile)
{
    std::vector<std::string> problems;
    const QuantizationConfig &q = c.quantization;
    const std::string where = configFile + ": quantization_config";
    if (q.present) {
        if (q.quantMethod != "awq")
            problems.push_back(where + " declares quant_method '" + q.quantMethod + "'; only 'awq' is supported");
        if (q.bits != 4)
            problems.push_back(where + " declares bits " + std::to_string(q.bits)
                               + ", but the AWQ packing (8 codes per int32) holds 4-bit codes");
        if (!q.zeroPoint)
            problems.push_back(where + " declares zero_point false (symmetric: the Marlin format), which is not supported");
        if (q.version != "gemm" && q.version != "gemv")
            problems.push_back(where + " declares version '" + q.version + "'; gemm and gemv are supported");
        if (!problems.empty())
            return problems; // the tensor checks below assume a runnable configuration
    }
    for (int64_t layer = 0; layer < c.numLayers; ++layer)
        for (const LayerTensor &t : layerTensors(c, layer)) {
            if (!t.linear)
                continue;
            const bool packed = store.contains(t.name + ".qweight");
            const bool full = store.contains(t.name + ".weight");
            if (!q.present) {
                if (packed)
                    problems.push_back(store.fileOf(t.name + ".qweight").path().filename().string() + ": '" + t.name
                                       + ".qweight' is packed, but " + configFile + " has no quantization_config");
                continue;
            }
            if (full && !packed) {
                if (!alwaysFullPrecision(t.linearRole) && !excludedFromQuantization(t.name, q.modulesToNotConvert))
                    problems.push_back(where + " declares AWQ, but '" + t.name + ".weight' ("
                                       + store.fileOf(t.name + ".weight").path().filename().string()
                                       + ") is full precision and modules_to_not_convert does not name it");
                continue;
            }
            if (!packed)
                continue; // missing altogether: the tensor check reports it
            const int64_t K = t.inFeatures, N = t.outFeatures;
            const int64_t g = q.groupSize <= 0 ? K : q.groupSize;
            if (K % g != 0) {
                problems.push_back(where + " declares group_size " + std::to_string(q.groupSize) + ", which does not divide '"
                                   + t.name + "' in_features " + std::to_string(K));
                continue;
            }
            std::vector<Expected> expected;
            if (q.version == "gemm") {
                if (N % 8 != 0) {
                    problems.push_back("'" + t.name + "': out_features " + std::to_string(N)
                                       + " is not a multiple of 8, which the GEMM packing needs");
                    continue;
                }
                expected = {{".qweight", "I32", {K, N / 8}}, {".qzeros", "I32", {K / g, N / 8}}, {".scales", "F16", {K / g, N}}};
            } else {
                int64_t zw = 0;
                try {
                    zw = kernels::gemvZerosWidth(static_cast<int>(K), static_cast<int>(g));
                } catch (const std::invalid_argument &e) {
                    problems.push_back("'" + t.name + "': " + e.what());
                    continue;
                }
                expected = {{".qweight", "I32", {N, K / 8}}, {".qzeros", "I32", {N, zw}}, {".scales", "F16", {N, zw * 8}}};
            }
            for (const Expected &e : expected) {
                const std::string name = t.name + e.suffix;
                if (!store.contains(name)) {
                    problems.push_back("tensor '" + name + "' is missing");
                    continue;
                }
                const TensorInfo &info = store.info(name);
                const std::string file = store.fileOf(name).path().filename().string();
                if (safetensorsName(info.dtype) != std::string(e.dtype))
                    problems.push_back(file + ": '" + name + "' is " + safetensorsName(info.dtype) + ", " + where
                                       + " (version " + q.version + ") implies " + e.dtype);
                else if (info.shape != e.shape)
                    problems.push_back(file + ": '" + name + "' has shape " + shapeText(info.shape) + ", " + where
                                       + " (bits " + std::to_string(q.bits) + ", group_size " + std::to_string(q.groupSize)
                                       + ", version " + q.version + ") implies " + shapeText(e.shape));
            }
        }
    return problems;
}

void requireConsistentQuantization(const ModelConfig &config, const WeightStore &store, const std::string &configFile)
{
    const std::vector<std::string> problems = quantizationProblems(config, store, configFile);
    if (problems.empty())
        return;
    fail(ErrorCode::Format, problems.front(),
         problems.size() > 1 ? " (and " + std::to_string(problems.size() - 1) + " more problems: awq info lists them)"
                             : std::string());
}

} // namespace awq
