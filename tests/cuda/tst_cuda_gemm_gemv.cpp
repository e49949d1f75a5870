// awq_gemm_gemv_forward_cuda (GEMM packing, decode sizes) against the CPU reference:
// dequantize_gemm (the fp16 weights AutoAWQ computes with), then the product in double. The GPU sums in fp32 and rounds y to fp16, so
// each output must lie within 1e-3 of Σ|x·w| plus an fp16 rounding of the exact value.
// Skips when no GPU is visible (the build machines have nvcc but no GPU).
#include <QtTest>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <cuda_runtime_api.h>

#include "awq/kernels/awq_gemm_gemv_cuda.h"
#include "awq/kernels/awq_unpack.h"
#include "awq/kernels/half.h"
#include "cuda_test_support.h"

using namespace awq::kernels;

using awq::test::DeviceBuffer;
using awq::test::upload;

class TestCudaGemmGemv : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { SKIP_WITHOUT_GPU(); }

    void matchesCpu_data() {
        QTest::addColumn<int>("M");
        QTest::addColumn<int>("K");
        QTest::addColumn<int>("N");
        QTest::addColumn<int>("g");
        QTest::newRow("1 x K128 N128 g32") << 1 << 128 << 128 << 32;
        QTest::newRow("1 x K2048 N2560 g128 (tinyllama qkv)") << 1 << 2048 << 2560 << 128;
        QTest::newRow("1 x K5632 N2048 g128 (tinyllama down)") << 1 << 5632 << 2048 << 128;
        QTest::newRow("1 x K11008 N4096 g128 (llama-2-7b down)") << 1 << 11008 << 4096 << 128;
        QTest::newRow("1 x K4096 N22016 g128 (llama-2-7b gate_up)") << 1 << 4096 << 22016 << 128;
        QTest::newRow("2 x K4096 N64 g64") << 2 << 4096 << 64 << 64;
        QTest::newRow("3 x K1152 N24 g1152 (per channel)") << 3 << 1152 << 24 << 1152;
        QTest::newRow("7 x K960 N40 g96") << 7 << 960 << 40 << 96;
        QTest::newRow("8 x K4096 N4096 g128") << 8 << 4096 << 4096 << 128;
    }
    void matchesCpu() {
        QFETCH(int, M);
        QFETCH(int, K);
        QFETCH(int, N);
        QFETCH(int, g);
        const int G = K / g;
        std::mt19937 rng(11u + unsigned(K) * 5u + unsigned(N) + unsigned(g) + unsigned(M));
        const awq::test::RandomLinear lin = awq::test::randomLinear(K, N, g, rng);
        const std::vector<uint16_t> x = awq::test::randomActivations(std::size_t(M) * K, rng);
        std::vector<int32_t> qw(std::size_t(K) * N / 8), qz(std::size_t(G) * N / 8);
        pack_gemm(lin.codes.data(), K, N, qw.data());
        pack_gemm_zeros(lin.zeros.data(), G, N, qz.data());
        std::vector<float> w(std::size_t(N) * K);
        dequantize_gemm(qw.data(), qz.data(), lin.scales.data(), K, N, g, w.data());

        const std::size_t workspaceBytes = awq_gemm_gemv_workspace_bytes(M, K, N, g);
        QVERIFY(workspaceBytes > 0);
        DeviceBuffer d_x, d_qw, d_qz, d_s, d_y, d_work;
        CUDA_OK(d_work.alloc(workspaceBytes));
        CUDA_OK(upload(d_x, x));
        CUDA_OK(upload(d_qw, qw));
        CUDA_OK(upload(d_qz, qz));
        CUDA_OK(upload(d_s, lin.scales));
        CUDA_OK(d_y.alloc(std::size_t(M) * N * sizeof(uint16_t)));
        CUDA_OK(cudaMemset(d_y.ptr, 0xFF, std::size_t(M) * N * sizeof(uint16_t)));  // NaN pattern
        CUDA_OK(awq::test::launchAndWait([&](cudaStream_t stream) {
            return awq_gemm_gemv_forward_cuda(d_x.as<__half>(), M, d_qw.as<int32_t>(), d_qz.as<int32_t>(),
                                              d_s.as<__half>(), K, N, g, d_y.as<__half>(), d_work.ptr,
                                              workspaceBytes, stream);
        }));
        std::vector<uint16_t> y(std::size_t(M) * N);
        CUDA_OK(cudaMemcpy(y.data(), d_y.ptr, y.size() * sizeof(uint16_t), cudaMemcpyDeviceToHost));

        double worst = 0;
        const QString mismatch = awq::test::productMismatch(x, w, y, M, K, N, worst);
        QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));
        qInfo("worst error %.3f of the bound", worst);
    }

    void rejectsInvalidArguments() {
        DeviceBuffer buf;
        CUDA_OK(buf.alloc(1 << 20));
        const auto* x = buf.as<__half>();
        const auto* q = buf.as<int32_t>();
        auto* y = buf.as<__half>();
        const std::size_t room = 1 << 19;
        void* work = static_cast<char*>(buf.ptr) + room;
        QCOMPARE(awq_gemm_gemv_forward_cuda(x, 0, q, q, x, 128, 8, 32, y, work, room, nullptr), cudaErrorInvalidValue);
        QCOMPARE(awq_gemm_gemv_forward_cuda(x, 9, q, q, x, 128, 8, 32, y, work, room, nullptr), cudaErrorInvalidValue);
        QCOMPARE(awq_gemm_gemv_forward_cuda(x, 1, q, q, x, 128, 12, 32, y, work, room, nullptr), cudaErrorInvalidValue);
        QCOMPARE(awq_gemm_gemv_forward_cuda(x, 1, q, q, x, 100, 8, 32, y, work, room, nullptr), cudaErrorInvalidValue);
        QCOMPARE(awq_gemm_gemv_forward_cuda(x, 1, q, q, x, 128, 8, 32, y, work, 4, nullptr), cudaErrorInvalidValue);
        QCOMPARE(awq_gemm_gemv_forward_cuda(x, 1, q, q, x, 128, 8, 32, y, nullptr, room, nullptr), cudaErrorInvalidValue);
        QCOMPARE(awq_gemm_gemv_workspace_bytes(1, 100, 8, 32), std::size_t(0));
        CUDA_OK(cudaDeviceSynchronize());
    }
};

QTEST_APPLESS_MAIN(TestCudaGemmGemv)
#include "tst_cuda_gemm_gemv.moc"
