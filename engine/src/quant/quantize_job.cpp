#include "awq/quant/quantize_job.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <set>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/core/memory.h"
#include "awq/io/atomic_file.h"
#include "awq/io/json_file.h"
#include "awq/io/safetensors.h"
#include "awq/model/config.h"
#include "awq/model/consistency.h"
#include "awq/model/memory_estimate.h"
#include "awq/model/model_folder.h"
#include "awq/model/model_info.h"
#include "awq/nn/linear.h"
#include "awq/nn/decoder_block.h"
#include "awq/quant/awq_pack.h"
#include "awq/quant/calibration.h"
#include "awq/quant/awq_search.h"
#include "awq/quant/pseudo_quant.h"
#include "awq/runtime/devices.h"
#include "awq/runtime/threads.h"
#include "awq/tokenizer/tokenizer.h"
#include "layer_capture.h"
#include "layer_search.h"
#include "layer_weights.h"
#include "output_folder.h"

namespace awq {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Turns "where are we" into events with an overall fraction and an ETA.
class Reporter
{
public:
    Reporter(const QuantEventFn &fn, int64_t layers) : m_fn(fn), m_layers(layers), m_start(Clock::now()) {}

    // Fractions: loading 0-1 %, calibration 1-3 %, layers 3-98 %, writing 98-100 %.
    void stage(QuantPhase phase, double fraction, const std::string &detail, int64_t layer = -1,
               const GroupLoss *loss = nullptr)
    {
        if (!m_fn)
            return;
        QuantEvent e;
        e.phase = phase;
        e.layer = layer;
        e.layers = m_layers;
        e.detail = detail;
        e.fraction = std::clamp(fraction, 0.0, 1.0);
        e.elapsedSeconds = secondsSince(m_start);
        if (e.fraction >= 0.05 && e.fraction < 1.0)
            e.etaSeconds = e.elapsedSeconds * (1.0 - e.fraction) / e.fraction;
        else if (e.fraction >= 1.0)
            e.etaSeconds = 0;
        e.rssBytes = currentRssBytes();
        e.peakRssBytes = peakRssBytes();
        e.groupLoss = loss;
        m_fn(e);
    }
    // Position `within` (0..1) inside layer `layer`.
    double layerFraction(int64_t layer, double within) const
    {
        return 0.03 + 0.95 * (static_cast<double>(layer) + within) / static_cast<double>(m_layers);
    }

private:
    const QuantEventFn &m_fn;
    int64_t m_layers;
    Clock::time_point m_start;
};





// Blocks used for the scale-search loss: all, or `count` spread evenly.
at::Tensor searchBlockIndices(int64_t blocks, int64_t seqLen, int64_t maxSearchTokens)
{
    int64_t count = blocks;
    if (maxSearchTokens > 0)
        count = std::clamp<int64_t>(maxSearchTokens / seqLen, 1, blocks);
    auto idx = at::empty({count}, at::kLong);
    for (int64_t i = 0; i < count; ++i)
        idx[i] = i * blocks / count;
    return idx;
}


// Tokenizer files, generation_config.json, chat templates...: every plain file of the
// source folder except weights, config.json, model cards and earlier provenance. Done
// when the run starts, so that the output describes the folder as it was then even if
// it changes or disappears later (the weight files stay readable through their open
// descriptors).
void copySideFiles(const fs::path &from, const fs::path &to)
{
    std::error_code ec;
    fs::directory_iterator it(from, ec);
    AWQ_CHECK(!ec, Io, from.string(), ": cannot list the model folder (", ec.message(), ")");
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        AWQ_CHECK(!ec, Io, from.string(), ": cannot list the model folder (", ec.message(), ")");
        const fs::directory_entry &entry = *it;
        if (!entry.is_regular_file(ec))
            continue;
        const std::string name = entry.path().filename().string();
        const std::string ext = entry.path().extension().string();
        if (ext == ".safetensors" || ext == ".bin" || ext == ".pt" || ext == ".pth" || ext == ".gguf"
            || name == "model.safetensors.index.json" || name == "pytorch_model.bin.index.json"
            || name == "config.json" || name == "quant_config.json" || name == "README.md" || name == kProvenanceFile
            || name == "evaluation.json") // the source model's measured perplexity, not the output's
            continue;
        copyFileAtomically(entry.path(), to / name);
    }
}

// See QuantOptions::checkMemory.
void checkMemoryFits(const ModelConfig &config, const QuantOptions &opt, int64_t calibrationTokens)
{
    const uint64_t need = estimateMemory(config, opt.quantizer.groupSize, calibrationTokens).quantizeCpu;
    uint64_t have = opt.memoryLimitBytes;
    std::string what = "the memory limit set for this run";
    if (have == 0) {
        const SystemMemory machine = systemMemory();
        if (machine.availableBytes == 0)
            return; // unknown: nothing to compare with
        // The estimate includes this process as it is now; what is available excludes it.
        have = machine.availableBytes + machine.swapFreeBytes + std::min(currentRssBytes(), need);
        what = machine.swapFreeBytes ? "available (free RAM and swap)" : "available (free RAM; no free swap)";
    }
    AWQ_CHECK(need <= have, OutOfMemory, (opt.modelFolder / "config.json").string(), ": quantizing this model needs about ",
              formatBytes(need), " of memory",
              calibrationTokens > 0 ? " (estimated for " + std::to_string(calibrationTokens) + " calibration tokens)" : "",
              ", but ",
              formatBytes(have), " is ", what,
              ". Close other programs, use fewer calibration samples or a shorter sequence length, or turn the memory "
              "check off to try anyway (the wizard's Advanced options; awq quantize --no-memory-check)");
}

std::string isoTimeNow()
{
    const std::time_t now = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    return buf;
}

json optionsJson(const QuantOptions &o)
{
    return {{"method", methodName(o.method)},
            {"w_bit", o.quantizer.bits},
            {"group_size", o.quantizer.groupSize},
            {"zero_point", o.quantizer.zeroPoint},
            {"version", o.version},
            {"format", outputFormatName(o.format)},
            {"duo_scaling", o.duoScaling},
            {"identity_candidate", o.identityCandidate},
            {"n_grid", o.nGrid},
            {"apply_clip", o.applyClip},
            {"clip_sample_tokens", o.clipSampleTokens},
            {"max_search_tokens", o.maxSearchTokens},
            {"n_samples", o.calibration.nSamples},
            {"seq_len", o.calibration.seqLen},
            {"modules_to_not_convert", o.modulesToNotConvert}};
}

// Moves a layer's float32 tensors to the device the search runs on.
void moveLayer(LayerWeights &lw, const c10::Device &device)
{
    for (auto *tensors : {&lw.weights, &lw.biases})
        for (auto &entry : *tensors)
            if (entry.second.defined())
                entry.second = entry.second.to(device);
    for (at::Tensor &t : lw.norms)
        if (t.defined())
            t = t.to(device);
}

// The run proper, writing into `output` (committed at the end).
QuantizeReport quantizeInto(OutputFolder &output, const QuantOptions &opt, const ModelFolder &folder,
                            const QuantEventFn &onEvent, const CancelToken &cancel, Clock::time_point start)
{
    const fs::path source = opt.modelFolder;
    const ModelConfig &config = folder.config();
    Reporter report(onEvent, config.numLayers);
    std::string notes; // what the run leaves aside (gemma3: a multimodal folder's vision tower)
    for (const std::string &note : config.notes)
        notes += "; " + note;
    report.stage(QuantPhase::Loading, 0.0, "reading " + source.string() + notes);

    // Everything but the weights is read now: a folder that changes or disappears during the
    // run cannot make the output inconsistent (the weight files stay open).
    json cfg = readJsonFile(source / "config.json");
    copySideFiles(source, output.path());
    const WeightStore *store = &folder.weights(); // memory-mapped: a layer is read when it is quantized
    const Tokenizer *tokenizer = folder.tokenizer().get();
    const bool awq = opt.method == QuantMethod::Awq;
    const QuantizerSpec &spec = opt.quantizer;

    const c10::Device device(opt.device); // checked by quantizeModel
    QuantizeReport result;
    result.layers = config.numLayers;
    json layersJson = json::array();
    json calibrationJson = nullptr;

    // Calibration: blocks of tokens, embedded into the inputs of layer 0 (docs/awq-format.md §1.1-1.2).
    at::Tensor hidden;     // [B, L, hidden] float32: the input of the current layer
    at::Tensor searchIdx;  // blocks used for the scale-search loss
    const Architecture &arch = config.arch();
    DecoderBlock block(config); // the reference block: capture and losses run it
    int64_t sliceBlocks = 1;
    if (!awq && opt.checkMemory)
        checkMemoryFits(config, opt, 0);
    if (awq) {
        const auto t0 = Clock::now();
        report.stage(QuantPhase::Calibrating, 0.01, "tokenizing calibration data");
        const CalibrationData calib = buildCalibration(opt.calibration, *tokenizer);
        cancel.throwIfCancelled();
        if (opt.checkMemory)
            checkMemoryFits(config, opt, calib.tokensUsed);
        const at::Tensor embed =
            loadChecked(*store, config.names().embedName, {config.vocabSize, config.hiddenSize}, {at::kFloat, at::kCPU});
        AWQ_CHECK(calib.blocks.max().item<int64_t>() < config.vocabSize, Format, source.string(),
                  ": the tokenizer produces ids beyond the model's vocab_size ", config.vocabSize);
        requireFinite(*store, config.names().embedName, embed);
        // gemma: times sqrt(hidden); then to the device the search runs on
        hidden = scaleEmbeddings(config, at::embedding(embed, calib.blocks)).to(device);
        store->release(config.names().embedName);
        sliceBlocks = blocksPerSlice(config, opt.calibration.seqLen);
        searchIdx = searchBlockIndices(calib.numBlocks(), opt.calibration.seqLen, opt.maxSearchTokens);
        if (searchIdx.defined())
            searchIdx = searchIdx.to(device);
        result.calibrationBlocks = calib.numBlocks();
        result.calibrationTokens = calib.tokensUsed;
        result.searchTokens = searchIdx.size(0) * opt.calibration.seqLen;
        result.calibrationSeconds = secondsSince(t0);
        calibrationJson = {{"source", calib.sourceDescription},
                           {"records_read", calib.recordsRead},
                           {"records_used", calib.recordsUsed},
                           {"records_skipped_longer_than_seq_len", calib.recordsSkippedLong},
                           {"records_skipped_empty", calib.recordsSkippedEmpty},
                           {"blocks", calib.numBlocks()},
                           {"tokens", calib.tokensUsed},
                           {"tokens_dropped", calib.tokensDropped},
                           {"search_tokens", result.searchTokens},
                           {"digest", calib.digest}};
        report.stage(QuantPhase::Calibrating, 0.03,
                     std::to_string(calib.numBlocks()) + " blocks of " + std::to_string(opt.calibration.seqLen)
                         + " tokens from " + std::to_string(calib.recordsUsed) + " records");
    }

    SafetensorsWriter writer(output.path());
    std::set<std::string> handled; // source tensors already replaced or written
    auto add = [&](const std::string &name, const at::Tensor &t) {
        writer.add(name, t);
        handled.insert(name);
    };

    for (int64_t i = 0; i < config.numLayers; ++i) {
        cancel.throwIfCancelled();
        const auto layerStart = Clock::now();
        const std::string layerName = "layer " + std::to_string(i + 1) + "/" + std::to_string(config.numLayers);
        LayerWeights lw = loadLayerWeights(*store, config, i);
        if (!device.is_cpu()) // one layer's weights on the device at a time
            moveLayer(lw, device);
        std::vector<std::string> active; // linears that get quantized (relative names)
        for (const LayerTensor &t : lw.tensors)
            if (t.linear && !alwaysFullPrecision(t.linearRole)
                && !excludedFromQuantization(t.relativeName, opt.modulesToNotConvert))
                active.push_back(t.relativeName);
        auto isActive = [&](const std::string &n) { return std::find(active.begin(), active.end(), n) != active.end(); };
        json groupsJson = json::array();
        json phaseSeconds = json::object(); // where this layer's time went
        auto lap = [&, last = layerStart](const char *phase) mutable {
            const auto now = Clock::now();
            phaseSeconds[phase] = std::chrono::duration<double>(now - last).count();
            last = now;
        };
        lap("load");

        if (awq) {
            report.stage(QuantPhase::Capturing, report.layerFraction(i, 0.0), layerName + ": capturing inputs", i);
            CapturedInputs in = captureLayer(block, lw, hidden, sliceBlocks);
            at::Tensor next = in.output;
            in.output = at::Tensor();
            cancel.throwIfCancelled();
            lap("capture");
            LayerSearchSettings settings{spec,
                                         opt.nGrid,
                                         opt.duoScaling,
                                         opt.identityCandidate,
                                         opt.applyClip,
                                         opt.clipSampleTokens,
                                         opt.maxSearchTokens,
                                         searchIdx,
                                         sliceBlocks,
                                         active};
            LayerSearchHooks hooks;
            bool clipping = false;
            hooks.onGroup = [&](const std::string &group, double position, const GroupLoss *done) {
                if (done)
                    result.groupLosses.push_back(*done);
                report.stage(QuantPhase::ScaleSearch, report.layerFraction(i, 0.1 + 0.65 * position),
                             layerName + ": scale search " + group + (done ? " done" : ""), i,
                             done ? &result.groupLosses.back() : nullptr);
            };
            hooks.onClip = [&](const std::string &linear) {
                if (!clipping)
                    lap("scale_search");
                clipping = true;
                report.stage(QuantPhase::ClipSearch, report.layerFraction(i, 0.75), layerName + ": clip " + linear, i);
            };
            for (const SearchedGroup &g : searchLayer(block, lw, in, settings, hooks, cancel)) {
                json group = {{"group", g.loss.group},
                              {"prev_op", g.prevOp},
                              {"rtn_loss", g.loss.rtnLoss},
                              {"awq_loss", g.loss.awqLoss},
                              {"ratio", g.loss.bestRatio},
                              {"activation_max_over_median", g.loss.activationSpread}};
                if (g.loss.experts > 0 || g.loss.unusedExperts > 0) { // a per-expert group, summarised
                    json experts = json::array();
                    for (const ExpertLoss &e : g.experts)
                        experts.push_back({{"expert", e.expert},
                                           {"tokens", e.tokens},
                                           {"rtn_loss", e.rtnLoss},
                                           {"awq_loss", e.awqLoss},
                                           {"ratio", e.bestRatio}});
                    group["ratio"] = nullptr;
                    group["experts"] = experts;
                    group["unused_experts"] = g.loss.unusedExperts;
                    result.unusedExperts += g.loss.unusedExperts;
                }
                groupsJson.push_back(group);
            }
            lap(clipping ? "clip_search" : "scale_search");
            hidden = next;
        }

        // Quantize and write (docs/awq-format.md, "The output"): every norm (scaled or not) in
        // its own dtype, every linear packed, or as it was when excluded or exported.
        report.stage(QuantPhase::Packing, report.layerFraction(i, awq ? 0.92 : 0.0), layerName + ": packing", i);
        for (const LayerTensor &t : lw.tensors) {
            cancel.throwIfCancelled();
            if (!t.linear) {
                add(t.name + ".weight", lw.norm(t.normRole).cpu().to(lw.normDtypes[static_cast<size_t>(t.normRole)]));
                continue;
            }
            const std::string &name = t.relativeName;
            const at::Tensor w = lw.weight(t.id()).cpu(); // packing and writing run on the CPU
            const at::Tensor &deviceBias = lw.bias(t.id());
            const at::Tensor b = deviceBias.defined() ? deviceBias.cpu() : at::Tensor();
            const c10::ScalarType dtype = toScalarType(store->info(t.name + ".weight").dtype);
            handled.insert(t.name + ".weight");
            handled.insert(t.name + ".bias");
            if (!isActive(name) || opt.format == OutputFormat::ExportCompatible) {
                add(t.name + ".weight", w.to(dtype));
                if (b.defined())
                    add(t.name + ".bias", b.to(dtype));
            } else if (opt.format == OutputFormat::FakeQuant) {
                const PseudoQuantResult q = pseudoQuantize(w.to(at::kHalf).to(at::kFloat), spec, QuantPrecision::Fp16);
                add(t.name + ".weight", q.dequantized.to(dtype == at::kBFloat16 ? at::kHalf : dtype));
                if (b.defined())
                    add(t.name + ".bias", b.to(at::kHalf));
            } else {
                const PackedLinear p = packLinear(w, b, spec, opt.version);
                add(t.name + ".qweight", p.qweight);
                add(t.name + ".qzeros", p.qzeros);
                add(t.name + ".scales", p.scales);
                if (p.bias.defined())
                    add(t.name + ".bias", p.bias);
            }
        }
        lap("pack_write");
        releaseFreeMemory();
        const double layerSeconds = secondsSince(layerStart);
        layersJson.push_back(
            {{"layer", i}, {"seconds", layerSeconds}, {"phase_seconds", phaseSeconds}, {"groups", groupsJson}});
        report.stage(QuantPhase::Packing, report.layerFraction(i, 1.0), layerName + " done", i);
    }
    result.searchSeconds = secondsSince(start) - result.calibrationSeconds;
    hidden = at::Tensor();

    // Everything outside the decoder layers' linears and norms goes through unchanged.
    const auto writeStart = Clock::now();
    report.stage(QuantPhase::Writing, 0.98, "writing embeddings, head and config");
    for (const auto &name : store->names()) {
        if (handled.count(name))
            continue;
        cancel.throwIfCancelled();
        add(name, store->view(name));
        store->release(name);
    }
    const std::vector<fs::path> files = writer.finish();
    for (const auto &f : files)
        result.outputBytes += fs::file_size(output.path() / f.filename());

    if (opt.format == OutputFormat::Packed) {
        // transformers replaces every nn.Linear whose path contains none of these names: the
        // routers (and shared-expert gates) stay in full precision, and modules outside the
        // text model (gemma3's vision tower) were copied as they were.
        std::vector<std::string> notConverted = opt.modulesToNotConvert;
        std::vector<std::string> kept = fullPrecisionModules(config);
        kept.insert(kept.end(), arch.keptModules.begin(), arch.keptModules.end());
        for (const std::string &m : kept)
            if (std::find(notConverted.begin(), notConverted.end(), m) == notConverted.end())
                notConverted.push_back(m);
        cfg["quantization_config"] = {{"quant_method", "awq"},
                                      {"zero_point", spec.zeroPoint},
                                      {"group_size", spec.groupSize},
                                      {"bits", spec.bits},
                                      {"version", opt.version},
                                      {"modules_to_not_convert", notConverted.empty() ? json(nullptr)
                                                                                       : json(notConverted)}};
        // torch_dtype (or transformers' newer "dtype") stays the source's: the unquantized
        // tensors (embeddings, norms, head, excluded linears) are written as stored, and a
        // bf16 model (Gemma) loaded with torch_dtype="auto" must not be run in fp16.
    }
    writeJsonFile(output.path() / "config.json", cfg);
    cancel.throwIfCancelled();

    result.writeSeconds = secondsSince(writeStart);
    result.seconds = secondsSince(start);
    result.peakRssBytes = peakRssBytes();
    json provenance = {{"tool", "AWQ Studio"},
                       {"version", AWQ_VERSION},
                       {"created", isoTimeNow()},
                       {"source", {{"folder", fs::absolute(source).string()},
                                   {"model_type", config.modelType},
                                   {"layers", config.numLayers},
                                   {"parameters", config.parameterCount()},
                                   {"notes", config.notes}}},
                       {"options", optionsJson(opt)},
                       {"device", opt.device},
                       {"calibration", calibrationJson},
                       {"seconds", {{"total", result.seconds},
                                    {"calibration", result.calibrationSeconds},
                                    {"layers", result.searchSeconds},
                                    {"write", result.writeSeconds}}},
                       {"peak_rss_bytes", result.peakRssBytes},
                       {"unused_experts", result.unusedExperts},
                       {"weight_bytes", result.outputBytes},
                       {"layers", layersJson}};
    writeJsonFile(output.path() / kProvenanceFile, provenance);
    output.commit();
    result.outputFolder = output.finalPath();
    report.stage(QuantPhase::Done, 1.0, "wrote " + result.outputFolder.string());
    return result;
}

} // namespace

QuantizeReport quantizeModel(const QuantOptions &requested, const QuantEventFn &onEvent, const CancelToken &cancel)
{
    const auto start = Clock::now();
    // The peak recorded is this run's (with what the process held when it started), not the
    // process's lifetime peak: a GUI may have run a benchmark or held a chat model before.
    resetPeakRss();
    configureThreads(requested.threads);
    const fs::path source = requested.modelFolder;
    AWQ_CHECK(fs::is_directory(source), NotFound, source.string(), ": model folder not found");
    const ModelFolder folder = ModelFolder::open(source); // config, weights' headers, tokenizer: read once
    const ModelConfig &config = folder.config();
    QuantOptions opt = requested;
    if (opt.calibration.seqLen == 0) // AutoAWQ's 512, or the model's whole context when shorter
        opt.calibration.seqLen = std::min<int64_t>(512, config.maxPositionEmbeddings);
    AWQ_CHECK(!config.quantization.present, InvalidArgument, (source / "config.json").string(),
              ": the model is already quantized (quantization_config is present); AWQ needs a full-precision model");
    opt.validate(config);
    checkDevice(opt.device); // a GPU this process cannot use fails before the output folder exists
    OutputFolder output(opt.outputFolder, opt.overwrite); // refuses an existing folder before any work
    // Whatever goes wrong, the incomplete output is removed before the error reaches the
    // caller, and the error says so when even that fails (a folder turned read-only).
    auto withLeftovers = [&](ErrorCode code, const std::string &message) {
        const std::string left = output.discard();
        return Error(code, left.empty() ? message : message + "; " + left);
    };
    try {
        return quantizeInto(output, opt, folder, onEvent, cancel, start);
    } catch (const Error &e) {
        throw withLeftovers(e.code(), e.what());
    } catch (const std::bad_alloc &) {
        throw withLeftovers(ErrorCode::OutOfMemory, source.string()
                                                        + ": ran out of memory while quantizing (see the memory "
                                                          "estimate on the wizard's Model page)");
    } catch (const std::exception &e) { // LibTorch (c10::Error), the standard library
        throw withLeftovers(ErrorCode::Internal, source.string() + ": quantization failed: " + e.what());
    }
}

} // namespace awq
