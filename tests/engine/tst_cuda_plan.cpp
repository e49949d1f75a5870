// The CUDA decoder's host logic, on machines without a GPU: which kernel runs each linear for a
// number of rows, the workspace and memory accounting, the device bytes of each packing, the
// shapes the kernels refuse, device ids, and how the tools reach the CUDA decoder (or say why
// this build cannot).

#include <QtTest>

#include "awq/bench/bench_runner.h"
#include "awq/bench/synthetic_model.h"
#include "awq/cuda/decoder_plan.h"
#include "awq/kernels/awq_gemm_gemv_split.h"
#include "awq/nn/reference_model.h"
#include "awq/runtime/decoder_model.h"
#include "test_support.h"

#include <nlohmann/json.hpp>

using namespace awq;
using namespace awq::cuda;
using awq::test::catchError;
using awq::test::contains;

class TestCudaPlan : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void halfLinearsAlwaysUseCublas()
    {
        const LinearSpec l{WeightFormat::Half, 2048, 2560, 0, false};
        for (int64_t rows : {1, 8, 16, 17, 4096}) {
            const LinearLaunch launch = planLinear(l, rows);
            QCOMPARE(launch.path, LinearPath::Cublas);
            QCOMPARE(launch.calls, int64_t(1));
            QCOMPARE(launch.rowsPerCall, rows);
            QCOMPARE(launch.workspaceBytes, uint64_t(0));
        }
    }

    void int4DecodeKernelsUpTo16RowsThenDequantize()
    {
        const LinearSpec gemv{WeightFormat::Int4Gemv, 2048, 2560, 128, false};
        LinearLaunch launch = planLinear(gemv, 1);
        QCOMPARE(launch.path, LinearPath::GemvDecode);
        QCOMPARE(launch.calls, int64_t(1));
        QCOMPARE(launch.rowsPerCall, int64_t(1));
        QCOMPARE(launch.workspaceBytes, uint64_t(0)); // the GEMV kernel needs none
        launch = planLinear(gemv, 8);
        QCOMPARE(launch.calls, int64_t(1));
        launch = planLinear(gemv, 9);
        QCOMPARE(launch.path, LinearPath::GemvDecode);
        QCOMPARE(launch.calls, int64_t(2));
        QCOMPARE(launch.rowsPerCall, int64_t(8));
        launch = planLinear(gemv, 16);
        QCOMPARE(launch.calls, int64_t(2));
        launch = planLinear(gemv, 17);
        QCOMPARE(launch.path, LinearPath::DequantCublas);
        QCOMPARE(launch.workspaceBytes, uint64_t(2048) * 2560 * 2); // the fp16 weight
        QVERIFY(contains(launch.describe(), "dequant+cublas"));

        const LinearSpec gemm{WeightFormat::Int4Gemm, 2048, 2560, 128, false};
        launch = planLinear(gemm, 3);
        QCOMPARE(launch.path, LinearPath::GemmDecode);
        // 320 packed columns: ceil(16384 / 320) = 52 slices, capped at the 16 groups.
        QCOMPARE(kernels::gemm_gemv_slice_count(2048, 2560, 128), 16);
        QCOMPARE(launch.workspaceBytes, uint64_t(16) * 3 * 2560 * 4);
        launch = planLinear(gemm, 12); // two calls share one workspace, sized for 8 rows
        QCOMPARE(launch.calls, int64_t(2));
        QCOMPARE(launch.workspaceBytes, uint64_t(16) * 8 * 2560 * 4);
        QCOMPARE(planLinear(gemm, 512).path, LinearPath::DequantCublas);
        QVERIFY(catchError([&] { planLinear(gemm, 0); }).code == ErrorCode::InvalidArgument);
    }

    void splitKAgreesWithTheKernelsLimits()
    {
        // Wide layers split less: 11008 / 8 = 1376 columns -> 12 slices of 32 groups.
        QCOMPARE(kernels::gemm_gemv_slice_count(4096, 11008, 128), 12);
        QCOMPARE(kernels::gemm_gemv_slice_count(128, 64, 128), 1); // one group: one slice
        QCOMPARE(kernels::gemm_gemv_workspace_bytes(9, 4096, 4096, 128, 8), std::size_t(0)); // over the row limit
        QCOMPARE(kernels::gemm_gemv_workspace_bytes(1, 4096, 4100, 128, 8), std::size_t(0)); // N % 8
    }

    void deviceBytesOfEachPacking()
    {
        // GEMM: qweight [K][N/8] + qzeros [K/g][N/8] int32, scales [K/g][N] fp16.
        const uint64_t gemm = weightBytes({WeightFormat::Int4Gemm, 2048, 2560, 128, false});
        QCOMPARE(gemm, uint64_t(2048 * 320 * 4 + 16 * 320 * 4 + 16 * 2560 * 2));
        // GEMV: qweight [N][K/8], qzeros [N][ZW], scales [N][ZW*8] with ZW = ceil(16 / 8) = 2.
        QCOMPARE(weightBytes({WeightFormat::Int4Gemv, 2048, 2560, 128, false}), gemm);
        // 10 groups pad to 16 zero/scale columns in the GEMV packing.
        QCOMPARE(weightBytes({WeightFormat::Int4Gemv, 1280, 64, 128, false}),
                 uint64_t(64 * 160 * 4 + 64 * 2 * 4 + 64 * 16 * 2));
        QCOMPARE(weightBytes({WeightFormat::Half, 64, 32, 0, true}), uint64_t(64 * 32 * 2 + 32 * 2));
    }

    void refusesShapesTheKernelsCannotTake()
    {
        auto code = [](const LinearSpec &l) { return catchError([&] { checkLinear(l, "model.layers.0.mlp"); }); };
        QVERIFY(!code({WeightFormat::Int4Gemv, 4096, 4096, 128, false}).thrown);
        QVERIFY(!code({WeightFormat::Int4Gemm, 4096, 4096, 32, false}).thrown);
        const test::Thrown gemvGroup = code({WeightFormat::Int4Gemv, 4096, 4096, 16, false});
        QCOMPARE(gemvGroup.code, ErrorCode::UnsupportedModel);
        QVERIFY(contains(gemvGroup.message, "model.layers.0.mlp") && contains(gemvGroup.message, "16"));
        QCOMPARE(code({WeightFormat::Int4Gemm, 4096, 4100, 128, false}).code, ErrorCode::UnsupportedModel);
        QCOMPARE(code({WeightFormat::Int4Gemm, 4000, 4096, 128, false}).code, ErrorCode::UnsupportedModel);
        QCOMPARE(code({WeightFormat::Half, 0, 4096, 0, false}).code, ErrorCode::UnsupportedModel);
    }

    void layerLinearsFollowTheConfig()
    {
        const ModelConfig c = bench::syntheticConfig("tinyllama-1.1b"); // 32 heads, 4 KV heads of 64
        const LayerLinears l = layerLinears(c, WeightFormat::Int4Gemm, 128);
        QCOMPARE(l.qkv.in, int64_t(2048));
        QCOMPARE(l.qkv.out, int64_t((32 + 2 * 4) * 64));
        QCOMPARE(l.o.in, int64_t(2048));
        QCOMPARE(l.gateUp.out, int64_t(2 * 5632));
        QCOMPARE(l.down.in, int64_t(5632));
        QCOMPARE(layerLinears(c, WeightFormat::Half, 128).qkv.group, int64_t(0));
        ModelConfig quantized = c;
        QCOMPARE(checkpointFormat(quantized), WeightFormat::Half);
        quantized.quantization.present = true;
        QCOMPARE(checkpointFormat(quantized), WeightFormat::Int4Gemm);
        quantized.quantization.version = "gemv";
        QCOMPARE(checkpointFormat(quantized), WeightFormat::Int4Gemv);
    }

    void memoryAccounting()
    {
        const ModelConfig tiny = bench::syntheticConfig("tinyllama-1.1b");
        // fp16 keys and values: 2 x 22 layers x 4 KV heads x 2048 positions x 64 x 2 bytes.
        QCOMPARE(kvCacheBytes(tiny, 1, 2048), uint64_t(2) * 22 * 4 * 2048 * 64 * 2);
        QCOMPARE(kvCacheBytes(tiny, 16, 2048), 16 * kvCacheBytes(tiny, 1, 2048));
        const ActivationBytes a = activationBytes(tiny, 512, 1);
        QCOMPARE(a.hidden, uint64_t(512) * 2048 * 4);
        QCOMPARE(a.gateUp, uint64_t(512) * 2 * 5632 * 2);
        QCOMPARE(a.logits, uint64_t(32000) * 4 + 2048 * 2);

        const ModelConfig llama = bench::syntheticConfig("llama-2-7b");
        const MemoryEstimate half = estimateMemory(llama, WeightFormat::Half, 0, 1, 2048, 2048);
        const MemoryEstimate int4 = estimateMemory(llama, WeightFormat::Int4Gemm, 128, 1, 2048, 2048);
        const double gib = 1024.0 * 1024.0 * 1024.0;
        // 6.74 G parameters in fp16: 12.55 GiB; int4 keeps the embeddings and lm_head in fp16.
        QVERIFY2(half.weights / gib > 12.4 && half.weights / gib < 12.7, qPrintable(QString::number(half.weights / gib)));
        QVERIFY2(int4.weights / gib > 3.4 && int4.weights / gib < 3.8, qPrintable(QString::number(int4.weights / gib)));
        QCOMPARE(int4.kvCache, half.kvCache);
        QCOMPARE(half.kvCache, uint64_t(2) * 32 * 32 * 2048 * 128 * 2); // 1 GiB
        // Prefill of 2048 rows dequantizes the largest linear (gate_up, 22016 x 4096 fp16).
        QCOMPARE(int4.workspace, uint64_t(22016) * 4096 * 2);
        QCOMPARE(half.workspace, uint64_t(0));
        QCOMPARE(int4.total(), int4.weights + int4.kvCache + int4.activations + int4.workspace);
        QVERIFY(catchError([&] { estimateMemory(llama, WeightFormat::Half, 0, 0, 2048, 1); }).thrown);
    }

    void cudaDeviceIds()
    {
        QCOMPARE(parseCudaDevice("cuda:0"), 0);
        QCOMPARE(parseCudaDevice("cuda:3"), 3);
        QCOMPARE(parseCudaDevice("cuda"), 0);
        for (const char *bad : {"cpu", "cuda:", "cuda:x", "gpu:0", "cuda:-1", "cuda:12345"})
            QCOMPARE(catchError([&] { parseCudaDevice(bad); }).code, ErrorCode::Device);
    }

    void theToolsReachTheCudaDecoderOrSayWhyNot()
    {
        QCOMPARE(loadTargetFor("cpu", DecoderKind::Fused).dtype, c10::kFloat);
        QVERIFY(loadTargetFor("cpu", DecoderKind::Reference).device.is_cpu());
        // The reference decoder on a GPU runs fp16 there; the CUDA decoder uploads from the CPU.
        QCOMPARE(loadTargetFor("cuda:0", DecoderKind::Reference).dtype, c10::kHalf);
        QCOMPARE(loadTargetFor("cuda:0", DecoderKind::Fused).device.is_cpu(), cudaDecoderBuilt());
        if (cudaDecoderBuilt())
            QSKIP("this build has the CUDA decoder: tests/cuda/tst_cuda_decoder covers it");
        const ModelConfig tiny = bench::syntheticConfig("tiny");
        const test::Thrown t = catchError([&] {
            makeDecoderOn("cuda:0", bench::buildSyntheticModel(tiny, bench::Variant::Gemm, 32, 1), DecoderKind::Fused);
        });
        QCOMPARE(t.code, ErrorCode::Device);
        QVERIFY2(contains(t.message, "no CUDA decoder") && contains(t.message, "docs/gpu.md"), t.message.c_str());
        // The CPU keeps the fused decoder.
        const auto cpu = makeDecoderOn("cpu", bench::buildSyntheticModel(tiny, bench::Variant::Gemm, 32, 1), DecoderKind::Fused);
        QCOMPARE(cpu->device(), std::string("cpu"));
    }

    void benchmarkNamesTheGpuBuildAndKeepsTheDevice()
    {
        QCOMPARE(std::string(bench::variantLabel(bench::Variant::Fp32, "cuda:0")), std::string("FP16"));
        QCOMPARE(std::string(bench::variantLabel(bench::Variant::Fp32, "cpu")), std::string("FP32"));
        QCOMPARE(std::string(bench::variantLabel(bench::Variant::Gemv, "cuda:0")), std::string("GEMV"));
        bench::BenchReport report = bench::newReport();
        report.plan.device = "cuda:1";
        const nlohmann::json j = bench::toJson(report);
        QCOMPARE(j["plan"]["device"].get<std::string>(), std::string("cuda:1"));
        QCOMPARE(bench::reportFromJson(j, "report.json").plan.device, std::string("cuda:1"));
        nlohmann::json old = j;
        old["plan"].erase("device"); // reports from before GPUs
        QCOMPARE(bench::reportFromJson(old, "report.json").plan.device, std::string("cpu"));
        // A device this process cannot use is refused before anything is built.
        bench::BenchPlan plan;
        plan.syntheticShape = "tiny";
        plan.device = "cuda:7";
        plan.prefillLengths = {4};
        const test::Thrown t = catchError([&] { bench::runBenchmark(plan); });
        QCOMPARE(t.code, ErrorCode::Device);
    }
};

QTEST_GUILESS_MAIN(TestCudaPlan)
#include "tst_cuda_plan.moc"
