#include "awq/bench/kernel_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include "awq/bench/synthetic_model.h"
#include "awq/core/error.h"
#include "awq/kernels/w4_int8_gemm.h"
#include "awq/nn/linear.h"
#include "awq/nn/quant_linear.h"
#include "text_table.h"

namespace awq::bench {

using kernels::CpuIsa;
using kernels::W4Packing;

std::vector<KernelShape> defaultKernelShapes()
{
    return {{"qkv", 2048, 2560}, {"o", 2048, 2048}, {"gate_up", 2048, 11264}, {"down", 5632, 2048}};
}

std::vector<KernelShape> parseKernelShapes(const std::string &list)
{
    std::vector<KernelShape> shapes;
    size_t start = 0;
    while (start <= list.size()) {
        const size_t comma = std::min(list.find(',', start), list.size());
        const std::string item = list.substr(start, comma - start);
        const size_t x = item.find('x');
        char *end1 = nullptr, *end2 = nullptr;
        const std::string in = x == std::string::npos ? "" : item.substr(0, x);
        const std::string out = x == std::string::npos ? "" : item.substr(x + 1);
        const long long k = std::strtoll(in.c_str(), &end1, 10), n = std::strtoll(out.c_str(), &end2, 10);
        AWQ_CHECK(!in.empty() && !out.empty() && *end1 == '\0' && *end2 == '\0' && k > 0 && n > 0, InvalidArgument,
                  "kernel shape '", item, "' is not IN x OUT (e.g. 2048x5632)");
        shapes.push_back({item, k, n});
        start = comma + 1;
    }
    return shapes;
}

namespace {

// Puts QuantLinear's process-wide settings and the thread count back as they were.
class SettingsGuard
{
public:
    ~SettingsGuard()
    {
        QuantLinear::setGemvMaxRows(m_gemvMaxRows);
        QuantLinear::setIsa(m_isa);
        QuantLinear::setInt8Prefill(m_int8Prefill);
        if (at::get_num_threads() != m_threads)
            at::set_num_threads(m_threads);
    }

private:
    int64_t m_gemvMaxRows = QuantLinear::gemvMaxRows();
    CpuIsa m_isa = QuantLinear::isa();
    bool m_int8Prefill = QuantLinear::int8Prefill();
    int m_threads = at::get_num_threads();
};

struct Timing {
    double best = 0;
    int repeats = 0;
};

template <typename Fn>
Timing timeBest(const KernelBenchOptions &o, const CancelToken &cancel, Fn &&fn)
{
    for (int i = 0; i < o.warmup; ++i)
        fn();
    Timing t{std::numeric_limits<double>::infinity(), 0};
    double spent = 0;
    while (t.repeats < std::max(1, o.minRepeats) || (spent < o.minSeconds && t.repeats < o.maxRepeats)) {
        cancel.throwIfCancelled();
        const auto start = std::chrono::steady_clock::now();
        fn();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        t.best = std::min(t.best, s);
        spent += s;
        ++t.repeats;
    }
    return t;
}

const char *packingName(W4Packing p) { return p == W4Packing::Gemm ? "gemm" : "gemv"; }

} // namespace

std::vector<KernelBenchRow> runKernelBench(const KernelBenchOptions &o, const ProgressFn &progress,
                                           const CancelToken &cancel)
{
    AWQ_CHECK(!o.shapes.empty() && !o.rows.empty(), InvalidArgument, "the kernel benchmark needs shapes and rows");
    for (int64_t r : o.rows)
        AWQ_CHECK(r > 0, InvalidArgument, "kernel benchmark rows must be positive, got ", r);
    std::vector<CpuIsa> isas = o.isas;
    if (isas.empty())
        for (CpuIsa isa : kernels::kAllCpuIsas)
            if (kernels::cpuIsaSupported(isa))
                isas.push_back(isa);
    for (CpuIsa isa : isas)
        AWQ_CHECK(kernels::cpuIsaSupported(isa), InvalidArgument, "this CPU (or build) cannot run the ",
                  kernels::cpuIsaName(isa), " kernels");

    SettingsGuard restore;
    if (o.threads > 0 && o.threads != at::get_num_threads())
        at::set_num_threads(o.threads);
    c10::InferenceMode inference;

    int64_t total = 0;
    // The VNNI path times the int8 prefill and the float panels (when the group size allows it).
    const int64_t int8Isas = std::count(isas.begin(), isas.end(), CpuIsa::Avx512Vnni) > 0 && o.groupSize % 32 == 0;
    for (int64_t r : o.rows)
        total += 1 + static_cast<int64_t>(o.packings.size()) *
                         (static_cast<int64_t>(isas.size()) * (r <= o.gemvKernelMaxRows ? 2 : 1) + int8Isas);
    total *= static_cast<int64_t>(o.shapes.size());
    int64_t done = 0;
    const int64_t maxRows = *std::max_element(o.rows.begin(), o.rows.end());

    std::vector<KernelBenchRow> out;
    for (const KernelShape &shape : o.shapes) {
        const int64_t K = shape.inFeatures, N = shape.outFeatures;
        at::Generator gen = at::detail::createCPUGenerator(o.seed);
        const at::Tensor x = at::randn({maxRows, K}, gen, at::kFloat);
        // Copies of one linear, cycled through by the timed calls (KernelBenchOptions::coldBytes).
        auto copiesFor = [&](uint64_t bytesEach) {
            return static_cast<size_t>(std::clamp<uint64_t>(o.coldBytes / std::max<uint64_t>(bytesEach, 1) + 1, 1, 512));
        };
        auto record = [&](const std::vector<const Linear *> &copies, int64_t rows, const char *kernel,
                          const std::string &packing, const std::string &isa) {
            const Linear &linear = *copies.front();
            if (progress)
                progress({"kernels", done, total,
                          shape.name + " rows " + std::to_string(rows) + ": " + kernel
                              + (packing.empty() ? "" : " " + packing + " " + isa)});
            const at::Tensor xr = x.narrow(0, 0, rows);
            at::Tensor y = at::empty({rows, N}, at::kFloat);
            size_t next = 0;
            const Timing t = timeBest(o, cancel, [&] { copies[next++ % copies.size()]->forwardInto(xr, y); });
            KernelBenchRow row;
            row.shape = shape.name;
            row.inFeatures = K;
            row.outFeatures = N;
            row.rows = rows;
            row.kernel = kernel;
            row.packing = packing;
            row.isa = isa;
            row.weightBytes = linear.weightBytes();
            row.seconds = t.best;
            row.repeats = t.repeats;
            row.weightGBPerSecond = static_cast<double>(row.weightBytes) / t.best / 1e9;
            row.gflops = 2.0 * static_cast<double>(rows) * static_cast<double>(K) * static_cast<double>(N) / t.best
                         / 1e9;
            out.push_back(row);
            ++done;
        };
        {
            std::vector<std::unique_ptr<DenseLinear>> dense;
            std::vector<const Linear *> views;
            const size_t n = copiesFor(static_cast<uint64_t>(K * N) * sizeof(float));
            for (size_t i = 0; i < n; ++i) {
                dense.push_back(std::make_unique<DenseLinear>(at::randn({N, K}, gen, at::kFloat).mul_(0.02)));
                views.push_back(dense.back().get());
            }
            for (int64_t rows : o.rows)
                record(views, rows, "fp32", "", "blas");
        }
        for (W4Packing packing : o.packings) {
            std::vector<std::unique_ptr<QuantLinear>> quant;
            std::vector<const Linear *> views;
            quant.push_back(randomQuantLinear(packing, K, N, o.groupSize, o.seed + 1));
            const size_t n = copiesFor(quant.front()->weightBytes());
            for (size_t i = 1; i < n; ++i)
                quant.push_back(randomQuantLinear(packing, K, N, o.groupSize, o.seed + 1 + i));
            for (const auto &q : quant)
                views.push_back(q.get());
            for (CpuIsa isa : isas) {
                QuantLinear::setIsa(isa);
                for (int64_t rows : o.rows) {
                    if (rows <= o.gemvKernelMaxRows) {
                        QuantLinear::setGemvMaxRows(int64_t(1) << 30); // every row count takes the GEMV kernel
                        record(views, rows, "gemv", packingName(packing), kernels::cpuIsaName(isa));
                    }
                    QuantLinear::setGemvMaxRows(0); // every row count takes the many-rows path
                    if (kernels::w4_int8_gemm_supported(quant.front()->matrix(), isa)) { // VNNI: int8 activations
                        QuantLinear::setInt8Prefill(true);
                        record(views, rows, "int8", packingName(packing), kernels::cpuIsaName(isa));
                    }
                    QuantLinear::setInt8Prefill(false); // the float panels
                    record(views, rows, "panel", packingName(packing), kernels::cpuIsaName(isa));
                }
            }
        }
    }
    if (progress)
        progress({"kernels", total, total, "done"});
    return out;
}

std::string formatKernelTable(const std::vector<KernelBenchRow> &rows, double streamGBPerSecond)
{
    using detail::format;
    std::vector<std::string> header = {"Shape", "In -> Out", "Rows", "Kernel", "Packing", "ISA",
                                       "Time (ms)", "Weight GB/s", "GFLOP/s"};
    std::vector<bool> right = {false, false, true, false, false, false, true, true, true};
    if (streamGBPerSecond > 0) {
        header.insert(header.begin() + 8, "% of stream");
        right.insert(right.begin() + 8, true);
    }
    std::vector<std::vector<std::string>> cells;
    for (const auto &r : rows) {
        std::vector<std::string> line = {r.shape,
                                         format("%lld -> %lld", static_cast<long long>(r.inFeatures),
                                                static_cast<long long>(r.outFeatures)),
                                         std::to_string(r.rows),
                                         r.kernel,
                                         r.packing.empty() ? "-" : r.packing,
                                         r.isa,
                                         format("%.3f", r.seconds * 1e3),
                                         format("%.2f", r.weightGBPerSecond),
                                         format("%.1f", r.gflops)};
        if (streamGBPerSecond > 0)
            line.insert(line.begin() + 8, format("%.0f%%", 100.0 * r.weightGBPerSecond / streamGBPerSecond));
        cells.push_back(std::move(line));
    }
    return detail::renderTable(header, cells, right);
}

} // namespace awq::bench
