// awq_gemv_forward_cuda against the CPU reference: dequantize_gemv (the fp16 weights AutoAWQ
// computes with), then the product in double. The GPU sums in fp32 and rounds y to fp16, so
// each output must lie within 1e-3 of Σ|x·w| plus an fp16 rounding of the exact value.
// Skips when no GPU is visible (the build machines have nvcc but no GPU).
#include <QtTest>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <cuda_runtime_api.h>

#include "awq/kernels/awq_format.h"
#include "awq/kernels/awq_gemv_cuda.h"
#include "awq/kernels/awq_unpack.h"
#include "awq/kernels/half.h"
#include "cuda_test_support.h"

using namespace awq::kernels;

using awq::test::DeviceBuffer;
using awq::test::upload;

class TestCudaGemv : public QObject {
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
        QTest::newRow("2 x K4096 N64 g64") << 2 << 4096 << 64 << 64;
        QTest::newRow("3 x K1152 N24 g1152 (per channel)") << 3 << 1152 << 24 << 1152;
        QTest::newRow("7 x K1040 N33 g130 (words across groups)") << 7 << 1040 << 33 << 130;
        QTest::newRow("8 x K4096 N4096 g128") << 8 << 4096 << 4096 << 128;
    }
    void matchesCpu() {
        QFETCH(int, M);
        QFETCH(int, K);
        QFETCH(int, N);
        QFETCH(int, g);
        const int G = K / g, ZW = gemvZerosWidth(K, g);
        std::mt19937 rng(11u + unsigned(K) * 5u + unsigned(N) + unsigned(g) + unsigned(M));
        const awq::test::RandomLinear lin = awq::test::randomLinear(K, N, g, rng);
        const std::vector<uint16_t> x = awq::test::randomActivations(std::size_t(M) * K, rng);
        std::vector<uint16_t> scales(std::size_t(N) * ZW * 8, 0);  // [N][ZW * 8], padding 0
        for (int n = 0; n < N; ++n)
            for (int grp = 0; grp < G; ++grp)
                scales[std::size_t(n) * ZW * 8 + grp] = lin.scales[std::size_t(grp) * N + n];
        std::vector<int32_t> qw(std::size_t(N) * K / 8), qz(std::size_t(N) * ZW);
        pack_gemv(lin.codes.data(), K, N, qw.data());
        pack_gemv_zeros(lin.zeros.data(), K, N, g, qz.data());
        std::vector<float> w(std::size_t(N) * K);
        dequantize_gemv(qw.data(), qz.data(), scales.data(), K, N, g, w.data());

        DeviceBuffer d_x, d_qw, d_qz, d_s, d_y;
        CUDA_OK(upload(d_x, x));
        CUDA_OK(upload(d_qw, qw));
        CUDA_OK(upload(d_qz, qz));
        CUDA_OK(upload(d_s, scales));
        CUDA_OK(d_y.alloc(std::size_t(M) * N * sizeof(uint16_t)));
        CUDA_OK(cudaMemset(d_y.ptr, 0xFF, std::size_t(M) * N * sizeof(uint16_t)));  // NaN pattern
        CUDA_OK(awq::test::launchAndWait([&](cudaStream_t stream) {
            return awq_gemv_forward_cuda(d_x.as<__half>(), M, d_qw.as<int32_t>(), d_qz.as<int32_t>(),
                                         d_s.as<__half>(), K, N, g, d_y.as<__half>(), stream);
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
        CUDA_OK(buf.alloc(1 << 16));
        const auto* x = buf.as<__half>();
        const auto* q = buf.as<int32_t>();
        auto* y = buf.as<__half>();
        QCOMPARE(awq_gemv_forward_cuda(x, 0, q, q, x, 128, 8, 32, y, nullptr), cudaErrorInvalidValue);   // M = 0
        QCOMPARE(awq_gemv_forward_cuda(x, 9, q, q, x, 128, 8, 32, y, nullptr), cudaErrorInvalidValue);   // M > 8
        QCOMPARE(awq_gemv_forward_cuda(x, 1, q, q, x, 132, 8, 33, y, nullptr), cudaErrorInvalidValue);   // K % 8
        QCOMPARE(awq_gemv_forward_cuda(x, 1, q, q, x, 128, 8, 48, y, nullptr), cudaErrorInvalidValue);   // K % g
        QCOMPARE(awq_gemv_forward_cuda(x, 1, q, q, x, 96, 8, 96, y, nullptr), cudaErrorInvalidValue);    // g = 96
        QCOMPARE(awq_gemv_forward_cuda(x + 1, 1, q, q, x, 128, 8, 32, y, nullptr), cudaErrorInvalidValue); // align
        QCOMPARE(awq_gemv_forward_cuda(nullptr, 1, q, q, x, 128, 8, 32, y, nullptr), cudaErrorInvalidValue);
        CUDA_OK(cudaDeviceSynchronize());
    }
};

QTEST_APPLESS_MAIN(TestCudaGemv)
#include "tst_cuda_gemv.moc"
