// awq_dequantize_gemm_cuda against the CPU reference awq::kernels::dequantize_gemm:
// the CUDA fp16 [K][N] output must equal the CPU [N][K] output, transposed, bit for bit.
// Skips when no GPU is visible (the build machines have nvcc but no GPU).
#include <QtTest>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include <cuda_runtime_api.h>

#include "awq/kernels/awq_dequantize_cuda.h"
#include "awq/kernels/awq_unpack.h"
#include "awq/kernels/half.h"
#include "cuda_test_support.h"

using namespace awq::kernels;

using awq::test::DeviceBuffer;
using awq::test::upload;

class TestCudaDequantize : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { SKIP_WITHOUT_GPU(); }

    void matchesCpu_data() {
        QTest::addColumn<int>("K");
        QTest::addColumn<int>("N");
        QTest::addColumn<int>("g");
        QTest::addColumn<bool>("misaligned");  // output pointer offset by one half: scalar stores
        QTest::newRow("K128 N64 g32") << 128 << 64 << 32 << false;
        QTest::newRow("K256 N8 g128") << 256 << 8 << 128 << false;
        QTest::newRow("K4096 N64 g64") << 4096 << 64 << 64 << false;
        QTest::newRow("K4096 N4096 g128") << 4096 << 4096 << 128 << false;
        QTest::newRow("K11008 N512 g128") << 11008 << 512 << 128 << false;
        QTest::newRow("K1152 N24 g1152") << 1152 << 24 << 1152 << false;
        QTest::newRow("K96 N40 g32 misaligned") << 96 << 40 << 32 << true;
    }
    void matchesCpu() {
        QFETCH(int, K);
        QFETCH(int, N);
        QFETCH(int, g);
        QFETCH(bool, misaligned);
        const int G = K / g;
        std::mt19937 rng(7u + unsigned(K) * 3u + unsigned(N) + unsigned(g));
        const awq::test::RandomLinear lin = awq::test::randomLinear(K, N, g, rng);
        std::vector<int32_t> qw(std::size_t(K) * N / 8), qz(std::size_t(G) * N / 8);
        pack_gemm(lin.codes.data(), K, N, qw.data());
        pack_gemm_zeros(lin.zeros.data(), G, N, qz.data());
        std::vector<float> cpu(std::size_t(N) * K);
        dequantize_gemm(qw.data(), qz.data(), lin.scales.data(), K, N, g, cpu.data());

        const std::size_t offset = misaligned ? 1 : 0;
        const std::size_t out_elems = std::size_t(K) * N + offset;
        DeviceBuffer d_qw, d_qz, d_s, d_out;
        CUDA_OK(upload(d_qw, qw));
        CUDA_OK(upload(d_qz, qz));
        CUDA_OK(upload(d_s, lin.scales));
        CUDA_OK(d_out.alloc(out_elems * sizeof(uint16_t)));
        CUDA_OK(cudaMemset(d_out.ptr, 0xFF, out_elems * sizeof(uint16_t)));  // NaN pattern
        __half* out = d_out.as<__half>() + offset;
        CUDA_OK(awq::test::launchAndWait([&](cudaStream_t stream) {
            return awq_dequantize_gemm_cuda(d_qw.as<int32_t>(), d_qz.as<int32_t>(), d_s.as<__half>(), K, N, g, out,
                                            stream);
        }));

        std::vector<uint16_t> gpu(std::size_t(K) * N);
        CUDA_OK(cudaMemcpy(gpu.data(), out, gpu.size() * sizeof(uint16_t), cudaMemcpyDeviceToHost));
        for (int k = 0; k < K; ++k)
            for (int n = 0; n < N; ++n) {
                const uint16_t want = float_to_half(cpu[std::size_t(n) * K + k]);
                const uint16_t got = gpu[std::size_t(k) * N + n];
                if (want != got)
                    QFAIL(qPrintable(QStringLiteral("k=%1 n=%2: cpu 0x%3 gpu 0x%4")
                                         .arg(k).arg(n).arg(want, 4, 16, QLatin1Char('0'))
                                         .arg(got, 4, 16, QLatin1Char('0'))));
            }
    }

    void rejectsInvalidArguments() {
        DeviceBuffer buf;
        CUDA_OK(buf.alloc(1 << 16));
        const auto* qw = buf.as<int32_t>();
        const auto* s = buf.as<__half>();
        auto* out = buf.as<__half>();
        QCOMPARE(awq_dequantize_gemm_cuda(qw, qw, s, 128, 12, 32, out, nullptr), cudaErrorInvalidValue);  // N % 8
        QCOMPARE(awq_dequantize_gemm_cuda(qw, qw, s, 100, 8, 32, out, nullptr), cudaErrorInvalidValue);   // K % g
        QCOMPARE(awq_dequantize_gemm_cuda(qw, qw, s, 128, 8, 0, out, nullptr), cudaErrorInvalidValue);    // g = 0
        QCOMPARE(awq_dequantize_gemm_cuda(qw, qw, s, 0, 8, 32, out, nullptr), cudaErrorInvalidValue);     // K = 0
        QCOMPARE(awq_dequantize_gemm_cuda(nullptr, qw, s, 128, 8, 32, out, nullptr), cudaErrorInvalidValue);
        QCOMPARE(awq_dequantize_gemm_cuda(qw, qw, s, 128, 8, 32, nullptr, nullptr), cudaErrorInvalidValue);
        CUDA_OK(cudaDeviceSynchronize());
    }
};

QTEST_APPLESS_MAIN(TestCudaDequantize)
#include "tst_cuda_dequantize.moc"
