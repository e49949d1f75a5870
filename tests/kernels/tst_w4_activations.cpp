// What the W4 kernels are fed: w4_prepare's workspace (the nibble planes, the 16-bit fixed
// point and the int8 copy) exactly as w4_internal.h defines it, w4_prepare_for's part of it,
// and the int8-activation many-rows product (QuantLinear's prefill path) against the
// float64 oracle.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "awq/kernels/w4_int8_gemm.h"
#include "awq/kernels/w4_linear.h"
#include "w4_internal.h"  // kernels/cpu: the workspace layout (detail::preparedView)
#include "w4_test_support.h"

using namespace awq::kernels;
using namespace w4test;

class TestW4Activations : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // w4_prepare's workspace holds exactly what w4_internal.h says, whichever path (scalar or
    // AVX-512) wrote it: the kernels read it without checking.
    void prepareMatchesItsDefinition_data() {
        QTest::addColumn<int>("K");
        QTest::addColumn<int>("group");
        QTest::newRow("2048 g128") << 2048 << 128;
        QTest::newRow("384 g128") << 384 << 128;
        QTest::newRow("5632 g64") << 5632 << 64;
        QTest::newRow("160 g32 (no fixed-point copy)") << 160 << 32;
    }
    void prepareMatchesItsDefinition() {
        QFETCH(int, K);
        QFETCH(int, group);
        const int M = 3, ldx = K + 5;
        std::vector<float> x = randomActivations(M, ldx, static_cast<uint32_t>(K));
        for (int k = 0; k < std::min(K, 128); ++k)
            x[static_cast<std::size_t>(ldx) + k] = 0.0f;  // row 1: an all-zero block (scale 1)
        x[2 * static_cast<std::size_t>(ldx)] = -0.0f;      // row 2: signed zero, tiny, huge, exact halves
        x[2 * static_cast<std::size_t>(ldx) + 1] = 1e-30f;
        x[2 * static_cast<std::size_t>(ldx) + 2] = 1e30f;
        x[2 * static_cast<std::size_t>(ldx) + 130 % K] = -2.5f;
        std::vector<float> work(w4_prepare_floats(M, K, group), NAN);
        w4_prepare(x.data(), M, K, ldx, group, work.data());
        const detail::Prepared p = detail::preparedView(work.data(), M, K, group);
        QCOMPARE(p.B, K % 128 == 0 ? K / 128 : 0);
        auto same = [](float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; };
        for (int m = 0; m < M; ++m) {
            const float* xr = x.data() + static_cast<std::size_t>(m) * ldx;
            for (int c = 0; c < K / 8; ++c) {
                float sum = 0.0f;
                for (int i = 0; i < 8; ++i) {
                    QVERIFY(same(p.planesOf(m)[static_cast<std::size_t>(i) * (K / 8) + c], xr[8 * c + i]));
                    sum += xr[8 * c + i];
                }
                QVERIFY2(same(p.wordSumsOf(m)[c], sum), ("word sum m=" + std::to_string(m) + " c=" + std::to_string(c)).c_str());
            }
            for (int gi = 0; gi < K / group; ++gi) {
                float sum = 0.0f;
                for (int c = gi * group / 8; c < (gi + 1) * group / 8; ++c)
                    sum += p.wordSumsOf(m)[c];
                QVERIFY(same(p.groupSumsOf(m)[gi], sum));
            }
            for (int b = 0; b < p.B; ++b) {
                float maxAbs = 0.0f;
                for (int k = 0; k < 128; ++k)
                    maxAbs = std::max(maxAbs, std::abs(xr[128 * b + k]));
                const float s = maxAbs > 0.0f ? maxAbs / 32639.0f : 1.0f;
                QVERIFY2(same(p.blockScalesOf(m)[b], s), ("block scale m=" + std::to_string(m) + " b=" + std::to_string(b)).c_str());
                const int8_t* bytes = p.fixedBytesOf(m) + 256 * b;
                for (int c = 0; c < 16; ++c) {
                    int sum = 0;
                    for (int i = 0; i < 8; ++i) {
                        const int v = static_cast<int>(std::lrint(xr[128 * b + 8 * c + i] * (1.0f / s)));
                        QVERIFY(std::abs(v) <= 32639);
                        const int high = bytes[128 * (i & 1) + 4 * c + i / 2], low = bytes[128 * (i & 1) + 64 + 4 * c + i / 2];
                        QVERIFY2(256 * high + low == v, ("fixed point m=" + std::to_string(m) + " k=" +
                                                         std::to_string(128 * b + 8 * c + i)).c_str());
                        sum += v;
                    }
                    QVERIFY(same(p.fixedWordSumsOf(m)[16 * b + c], static_cast<float>(sum) * s));
                }
                // The int8 copy (written where the VNNI kernel can read it, for every row):
                // s = max|x| / 127, v in [-127, 127].
                if (!cpuIsaSupported(CpuIsa::Avx512Vnni))
                    continue;
                const float s8 = maxAbs > 0.0f && std::isfinite(maxAbs) ? maxAbs / 127.0f : 1.0f;
                QVERIFY2(same(p.int8ScalesOf(m)[b], s8), ("int8 scale m=" + std::to_string(m) + " b=" + std::to_string(b)).c_str());
                for (int c = 0; c < 16; ++c) {
                    int sum = 0;
                    for (int i = 0; i < 8; ++i) {
                        const int v = std::clamp(static_cast<int>(std::lrint(xr[128 * b + 8 * c + i] * (1.0f / s8))), -127, 127);
                        QVERIFY2(p.int8BytesOf(m)[128 * b + 64 * (i & 1) + 4 * c + i / 2] == v,
                                 ("int8 m=" + std::to_string(m) + " k=" + std::to_string(128 * b + 8 * c + i)).c_str());
                        sum += v;
                    }
                    QVERIFY(same(p.int8WordSumsOf(m)[16 * b + c], static_cast<float>(sum) * s8));
                }
            }
        }
    }

    // w4_prepare_for writes what w4_gemv at that ISA reads: on the VNNI g128 GEMV path the
    // int8 copy alone, bit for bit w4_prepare's (the rest of the workspace untouched), and
    // the same outputs; everywhere else the whole of w4_prepare's workspace.
    void prepareForWritesWhatTheKernelReads() {
        for (const auto& [K, group, packing] :
             {std::tuple{2048, 128, W4Packing::Gemv}, std::tuple{5632, 128, W4Packing::Gemv},
              std::tuple{2048, 128, W4Packing::Gemm}, std::tuple{512, 64, W4Packing::Gemv},
              std::tuple{512, 256, W4Packing::Gemv}}) {
            const int N = 64;
            const Case c = makeCase(K, N, group, static_cast<uint32_t>(K + group));
            const W4Matrix w = c.matrix(packing);
            for (CpuIsa isa : supportedIsas())
                for (int M : {1, 3}) {
                    const std::string where = std::string(cpuIsaName(isa)) + " K=" + std::to_string(K) + " g" +
                                              std::to_string(group) + " M=" + std::to_string(M) +
                                              (packing == W4Packing::Gemv ? " gemv" : " gemm");
                    const auto x = randomActivations(M, K, static_cast<uint32_t>(M + K));
                    const std::size_t floats = w4_prepare_floats(M, K, group);
                    std::vector<float> full(floats, NAN), part(floats, NAN);
                    w4_prepare(x.data(), M, K, K, group, full.data());
                    w4_prepare_for(w, isa, x.data(), M, K, part.data());
                    const bool int8Only = w4_gemv_reads_int8_only(w, isa);
                    QCOMPARE(int8Only, isa == CpuIsa::Avx512Vnni && packing == W4Packing::Gemv && group == 128);
                    const detail::Prepared pf = detail::preparedView(full.data(), M, K, group);
                    const detail::Prepared pp = detail::preparedView(part.data(), M, K, group);
                    if (int8Only) {
                        QVERIFY2(std::isnan(part[0]), (where + ": wrote the planes").c_str());
                        const std::size_t scales = static_cast<std::size_t>(M) * pf.B, words = static_cast<std::size_t>(M) * pf.W;
                        QVERIFY2(std::memcmp(pf.int8Scales, pp.int8Scales, scales * sizeof(float)) == 0, where.c_str());
                        QVERIFY2(std::memcmp(pf.int8WordSums, pp.int8WordSums, words * sizeof(float)) == 0, where.c_str());
                        QVERIFY2(std::memcmp(pf.int8Bytes, pp.int8Bytes, scales * 128) == 0, where.c_str());
                    } else {
                        QVERIFY2(std::memcmp(full.data(), part.data(), floats * sizeof(float)) == 0, where.c_str());
                    }
                    std::vector<float> yFull(static_cast<std::size_t>(M) * N), yPart(yFull.size());
                    w4_gemv(w, x.data(), K, full.data(), M, yFull.data(), N, 0, N, isa);
                    w4_gemv(w, x.data(), K, part.data(), M, yPart.data(), N, 0, N, isa);
                    QVERIFY2(std::memcmp(yFull.data(), yPart.data(), yFull.size() * sizeof(float)) == 0, where.c_str());
                }
        }
    }

    // Many rows on int8 activations (QuantLinear's prefill path with AVX-512 VNNI): within the
    // bound of the activation rounding against the float64 reference, for both packings, every
    // row-block tail, partial tiles (N % 32) and split channel ranges; other columns untouched.
    void int8GemmMatchesReference_data() {
        QTest::addColumn<int>("K");
        QTest::addColumn<int>("N");
        QTest::addColumn<int>("group");
        QTest::newRow("256x136 g128 (N tail)") << 256 << 136 << 128;
        QTest::newRow("256x96 g32") << 256 << 96 << 32;
        QTest::newRow("384x64 g64") << 384 << 64 << 64;
        QTest::newRow("512x128 g256") << 512 << 128 << 256;
        QTest::newRow("2048x256 g128") << 2048 << 256 << 128;
    }
    void int8GemmMatchesReference() {
        QFETCH(int, K);
        QFETCH(int, N);
        QFETCH(int, group);
        if (!cpuIsaSupported(CpuIsa::Avx512Vnni))
            QSKIP("this CPU has no AVX-512 VNNI: the int8 path is not used here");
        const Case c = makeCase(K, N, group, static_cast<uint32_t>(K + N + group));
        double worst = 0.0;
        for (int M : {1, 2, 3, 4, 5, 7, 17, 64}) {
            const int ldy = N + 3;
            const auto x = randomActivations(M, K, static_cast<uint32_t>(M + 100));
            const auto ref = reference(c, x, M, K);
            std::vector<unsigned char> raw(w4_int8_rows_bytes(M, K, group) + 64);
            void* work = raw.data() + (64 - reinterpret_cast<std::uintptr_t>(raw.data()) % 64) % 64;
            w4_int8_quantize_rows(x.data(), M, K, K, group, work, 0, M / 2);
            w4_int8_quantize_rows(x.data(), M, K, K, group, work, M / 2, M);
            const int block = w4_int8_block(group);
            for (W4Packing p : {W4Packing::Gemm, W4Packing::Gemv}) {
                QVERIFY(w4_int8_gemm_supported(c.matrix(p), CpuIsa::Avx512Vnni));
                std::vector<float> y(static_cast<std::size_t>(M) * ldy, -1.0f);
                const int split = N > 64 ? 64 : N;
                w4_int8_gemm(c.matrix(p), work, M, y.data(), ldy, 0, split);
                w4_int8_gemm(c.matrix(p), work, M, y.data(), ldy, split, N);
                for (int m = 0; m < M; ++m) {
                    const float* xr = &x[static_cast<std::size_t>(m) * K];
                    for (int n = 0; n < N; ++n) {
                        // Each activation is off by at most s/2 = max|x of its block| / 254.
                        double bound = 0.0, magnitude = 0.0;
                        for (int k0 = 0; k0 < K; k0 += block) {
                            double maxAbs = 0.0, sumW = 0.0;
                            for (int k = k0; k < k0 + block; ++k) {
                                maxAbs = std::max(maxAbs, std::abs(static_cast<double>(xr[k])));
                                sumW += std::abs(c.weight(n, k));
                                magnitude += std::abs(c.weight(n, k) * xr[k]);
                            }
                            bound += maxAbs / 254.0 * sumW;
                        }
                        const double err = std::abs(y[static_cast<std::size_t>(m) * ldy + n] -
                                                    ref[static_cast<std::size_t>(m) * N + n]);
                        QVERIFY2(err <= bound * 1.001 + 1e-5 * magnitude,
                                 (label(c, p, CpuIsa::Avx512Vnni, M) + ": error " + std::to_string(err) +
                                  " above the bound " + std::to_string(bound) + " at n=" + std::to_string(n))
                                     .c_str());
                    }
                    for (int n = N; n < ldy; ++n)
                        QCOMPARE(y[static_cast<std::size_t>(m) * ldy + n], -1.0f);
                }
                worst = std::max(worst, relativeError(y, ldy, ref, M, N, 0, N));
            }
        }
        qInfo("int8 path, K=%d g=%d: max |y - ref| / max |ref| = %.2e", K, group, worst);
        QVERIFY(worst < 2e-2);
    }
};

QTEST_APPLESS_MAIN(TestW4Activations)
#include "tst_w4_activations.moc"
