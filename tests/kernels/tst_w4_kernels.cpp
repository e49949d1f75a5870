// The W4A16 CPU kernels (kernels/w4_linear.h) against a float64 dequantize-then-matmul
// oracle, for both packings, both kernels and every instruction set this CPU runs.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "awq/kernels/awq_format.h"
#include "awq/kernels/awq_unpack.h"
#include "awq/kernels/cpu_ops.h"
#include "awq/kernels/f16_linear.h"
#include "awq/kernels/half.h"
#include "awq/kernels/w4_int8_gemm.h"
#include "awq/kernels/w4_linear.h"
#include "w4_test_support.h"

using namespace awq::kernels;
using namespace w4test;


class TestW4Kernels : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void reportsInstructionSets() {
        qInfo("best ISA on this machine: %s", cpuIsaName(bestCpuIsa()));
        QVERIFY(cpuIsaSupported(CpuIsa::Scalar));
        QVERIFY(cpuIsaSupported(bestCpuIsa()));
    }

    // The GEMV-style kernel over many shapes, group sizes and row counts.
    void gemvKernelMatchesReference_data() {
        QTest::addColumn<int>("K");
        QTest::addColumn<int>("N");
        QTest::addColumn<int>("group");
        QTest::addColumn<QList<int>>("rows");
        const QList<int> all = {1, 2, 3, 7, 8, 9, 17};
        QTest::newRow("128x128 g32") << 128 << 128 << 32 << (all + QList<int>{64});
        QTest::newRow("128x128 g64") << 128 << 128 << 64 << (all + QList<int>{64});
        QTest::newRow("128x128 g128") << 128 << 128 << 128 << (all + QList<int>{64, 512});
        QTest::newRow("256x136 g64 (N tail)") << 256 << 136 << 64 << all;
        QTest::newRow("160x64 g32 (K tail)") << 160 << 64 << 32 << all;
        QTest::newRow("2048x2560 g128") << 2048 << 2560 << 128 << QList<int>{1, 8};
        QTest::newRow("2048x512 g32") << 2048 << 512 << 32 << QList<int>{1, 3, 9};
        QTest::newRow("5632x256 g64") << 5632 << 256 << 64 << QList<int>{1, 8};
        QTest::newRow("5632x152 g128 (K passes, N tail)") << 5632 << 152 << 128 << QList<int>{5, 8, 13};
        QTest::newRow("11008x128 g128") << 11008 << 128 << 128 << QList<int>{1, 2};
        QTest::newRow("128x11008 g128") << 128 << 11008 << 128 << QList<int>{1, 7};
        QTest::newRow("512x384 g256") << 512 << 384 << 256 << QList<int>{1, 5};
        QTest::newRow("384x64 per-channel") << 384 << 64 << 384 << QList<int>{1, 4};
    }
    void gemvKernelMatchesReference() {
        QFETCH(int, K);
        QFETCH(int, N);
        QFETCH(int, group);
        QFETCH(QList<int>, rows);
        const Case c = makeCase(K, N, group, static_cast<uint32_t>(K * 31 + N * 7 + group));
        for (int M : rows) {
            const auto x = randomActivations(M, K, static_cast<uint32_t>(M));
            const auto ref = reference(c, x, M, K);
            for (W4Packing p : {W4Packing::Gemm, W4Packing::Gemv})
                for (CpuIsa isa : supportedIsas()) {
                    const auto y = runGemv(c, p, isa, x, M, K, N, 0, N);
                    // The VNNI g128 kernels multiply the int8 copy of the activations (Note
                    // [int8 activations]): each output within Σ|w| · max|x| / 254 of its
                    // 128-input blocks, plus float rounding.
                    const bool int8Rows =
                        isa == CpuIsa::Avx512Vnni && p == W4Packing::Gemv && group == 128 && K % 128 == 0;
                    if (!int8Rows) {
                        const double err = relativeError(y, N, ref, M, N, 0, N);
                        QVERIFY2(err < 1e-4, (label(c, p, isa, M) + ": relative error " + std::to_string(err)).c_str());
                        continue;
                    }
                    const std::string problem = int8RowsError(c, x, y, ref, M);
                    QVERIFY2(problem.empty(), (label(c, p, isa, M) + ": " + problem).c_str());
                }
        }
    }

    // The dequantize-rows kernel gives exactly (q - z) * s, for both packings and a sub-range.
    void dequantizeRowsIsExact_data() {
        QTest::addColumn<int>("K");
        QTest::addColumn<int>("N");
        QTest::addColumn<int>("group");
        QTest::newRow("128x64 g32") << 128 << 64 << 32;
        QTest::newRow("256x136 g64") << 256 << 136 << 64;
        QTest::newRow("2048x256 g128") << 2048 << 256 << 128;
        QTest::newRow("5632x64 g128") << 5632 << 64 << 128;
    }
    void dequantizeRowsIsExact() {
        QFETCH(int, K);
        QFETCH(int, N);
        QFETCH(int, group);
        const Case c = makeCase(K, N, group, 99u + static_cast<uint32_t>(K));
        const int n0 = 8, n1 = N - 8, ldp = K + 3;
        for (W4Packing p : {W4Packing::Gemm, W4Packing::Gemv})
            for (CpuIsa isa : supportedIsas()) {
                std::vector<float> panel(static_cast<std::size_t>(n1 - n0) * ldp, -777.0f);
                w4_dequantize_rows(c.matrix(p), n0, n1, panel.data(), ldp, isa);
                for (int n = n0; n < n1; ++n)
                    for (int k = 0; k < K; ++k) {
                        const float got = panel[static_cast<std::size_t>(n - n0) * ldp + k];
                        const auto want = static_cast<float>(c.weight(n, k));
                        if (got != want)
                            QFAIL((label(c, p, isa, 0) + ": n=" + std::to_string(n) + " k=" + std::to_string(k) +
                                   " got " + std::to_string(got) + " want " + std::to_string(want))
                                      .c_str());
                    }
                QCOMPARE(panel[static_cast<std::size_t>(n1 - n0 - 1) * ldp + K], -777.0f);  // stride padding untouched
            }
        // The GEMM packing's transposed panel, [K][n1 - n0] with a padded stride.
        const int ldt = n1 - n0 + 5;
        for (CpuIsa isa : supportedIsas()) {
            std::vector<float> panelT(static_cast<std::size_t>(K) * ldt, -777.0f);
            w4_dequantize_cols(c.matrix(W4Packing::Gemm), n0, n1, panelT.data(), ldt, isa);
            for (int k = 0; k < K; ++k)
                for (int n = n0; n < n1; ++n)
                    if (panelT[static_cast<std::size_t>(k) * ldt + (n - n0)] != static_cast<float>(c.weight(n, k)))
                        QFAIL((label(c, W4Packing::Gemm, isa, 0) + ": transposed panel differs at n=" +
                               std::to_string(n) + " k=" + std::to_string(k))
                                  .c_str());
            QCOMPARE(panelT[static_cast<std::size_t>(K - 1) * ldt + (n1 - n0)], -777.0f);
        }
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 w4_dequantize_cols(c.matrix(W4Packing::Gemv), 0, 8, std::vector<float>(K * 8).data(),
                                                    8, CpuIsa::Scalar));
    }

    // Many rows through dequantize + matmul agree with the reference too (what QuantLinear does for prefill).
    void panelMatmulMatchesReference() {
        const Case c = makeCase(512, 192, 128, 5u);
        const int M = 64;
        const auto x = randomActivations(M, c.K, 11u);
        const auto ref = reference(c, x, M, c.K);
        for (W4Packing p : {W4Packing::Gemm, W4Packing::Gemv}) {
            std::vector<float> panel(static_cast<std::size_t>(c.N) * c.K);
            w4_dequantize_rows(c.matrix(p), 0, c.N, panel.data(), c.K, bestCpuIsa());
            std::vector<float> y(static_cast<std::size_t>(M) * c.N);
            for (int m = 0; m < M; ++m)
                for (int n = 0; n < c.N; ++n) {
                    float acc = 0.0f;
                    for (int k = 0; k < c.K; ++k)
                        acc += x[static_cast<std::size_t>(m) * c.K + k] * panel[static_cast<std::size_t>(n) * c.K + k];
                    y[static_cast<std::size_t>(m) * c.N + n] = acc;
                }
            QVERIFY(relativeError(y, c.N, ref, M, c.N, 0, c.N) < 1e-4);
        }
    }

    // Partial channel ranges (how threads split N) write only their columns; strided x and y work.
    void channelRangesAndStrides() {
        const Case c = makeCase(256, 272, 64, 7u);
        const int M = 5, ldx = c.K + 5, ldy = c.N + 9;
        const auto x = randomActivations(M, ldx, 3u);
        const auto ref = reference(c, x, M, ldx);
        for (W4Packing p : {W4Packing::Gemm, W4Packing::Gemv})
            for (CpuIsa isa : supportedIsas()) {
                std::vector<float> work(w4_prepare_floats(M, c.K, c.group));
                w4_prepare(x.data(), M, c.K, ldx, c.group, work.data());
                std::vector<float> y(static_cast<std::size_t>(M) * ldy, -1.0f);
                const W4Matrix w = c.matrix(p);
                w4_gemv(w, x.data(), ldx, work.data(), M, y.data(), ldy, 0, 136, isa);
                w4_gemv(w, x.data(), ldx, work.data(), M, y.data(), ldy, 136, 264, isa);
                QVERIFY2(relativeError(y, ldy, ref, M, c.N, 0, 264) < 1e-4, label(c, p, isa, M).c_str());
                for (int m = 0; m < M; ++m)
                    for (int n = 264; n < ldy; ++n)
                        QCOMPARE(y[static_cast<std::size_t>(m) * ldy + n], -1.0f);
            }
    }

    // Extreme codes and zero points: all 0, all 15, zero point 15 with code 0.
    void extremeCodes() {
        Case c = makeCase(256, 64, 128, 1u);
        for (int variant = 0; variant < 2; ++variant) {
            std::fill(c.codes.begin(), c.codes.end(), variant == 0 ? 0 : 15);
            std::fill(c.zeros.begin(), c.zeros.end(), variant == 0 ? 15 : 0);
            const Case packed = [&] {
                Case d = makeCase(256, 64, 128, 1u);
                d.codes = c.codes;
                d.zeros = c.zeros;
                d.scale = c.scale;
                pack_gemm(d.codes.data(), d.K, d.N, d.gemmQ.data());
                pack_gemm_zeros(d.zeros.data(), d.K / d.group, d.N, d.gemmZ.data());
                pack_gemv(d.codes.data(), d.K, d.N, d.gemvQ.data());
                pack_gemv_zeros(d.zeros.data(), d.K, d.N, d.group, d.gemvZ.data());
                return d;
            }();
            const auto x = randomActivations(2, packed.K, 8u);
            const auto ref = reference(packed, x, 2, packed.K);
            for (W4Packing p : {W4Packing::Gemm, W4Packing::Gemv})
                for (CpuIsa isa : supportedIsas()) {
                    const auto y = runGemv(packed, p, isa, x, 2, packed.K, packed.N, 0, packed.N);
                    if (isa == CpuIsa::Avx512Vnni && p == W4Packing::Gemv) {  // two rows: int8 activations
                        const std::string problem = int8RowsError(packed, x, y, ref, 2);
                        QVERIFY2(problem.empty(), (label(packed, p, isa, 2) + ": " + problem).c_str());
                        continue;
                    }
                    QVERIFY2(relativeError(y, packed.N, ref, 2, packed.N, 0, packed.N) < 1e-4,
                             label(packed, p, isa, 2).c_str());
                }
        }
    }

    // The fused decoder's loops: attention over a transposed key cache, RMSNorm, SiLU·mul, fp16 GEMV.
    void cpuOpsMatchReference() {
        std::mt19937 rng(5);
        std::normal_distribution<float> nd(0.0f, 1.0f);
        for (int D : {16, 64, 128})
            for (int S : {1, 15, 64, 65, 200})
                for (int queries : {1, 4}) {
                    const long ldk = S + 3, ldv = D + 8;
                    std::vector<float> q(static_cast<std::size_t>(queries) * D), kT(static_cast<std::size_t>(D) * ldk),
                        v(static_cast<std::size_t>(S) * ldv);
                    for (auto* vec : {&q, &kT, &v})
                        for (auto& e : *vec) e = nd(rng);
                    const float scale = 1.0f / std::sqrt(static_cast<float>(D));
                    std::vector<double> want(static_cast<std::size_t>(queries) * D, 0.0);
                    for (int h = 0; h < queries; ++h) {
                        std::vector<double> sc(S);
                        double mx = -1e300, sum = 0;
                        for (int s = 0; s < S; ++s) {
                            double dot = 0;
                            for (int d = 0; d < D; ++d) dot += double(q[h * D + d]) * kT[d * ldk + s];
                            sc[s] = dot * scale;
                            mx = std::max(mx, sc[s]);
                        }
                        for (int s = 0; s < S; ++s) sum += (sc[s] = std::exp(sc[s] - mx));
                        for (int s = 0; s < S; ++s)
                            for (int d = 0; d < D; ++d) want[h * D + d] += sc[s] / sum * v[s * ldv + d];
                    }
                    for (CpuIsa isa : supportedIsas()) {
                        std::vector<float> scores(static_cast<std::size_t>(queries) * S), out(want.size());
                        attention_rows(q.data(), queries, kT.data(), ldk, v.data(), ldv, S, D, scale, scores.data(),
                                       out.data(), isa);
                        double err = 0;
                        for (std::size_t i = 0; i < out.size(); ++i) err = std::max(err, std::abs(out[i] - want[i]));
                        QVERIFY2(err < 1e-5, (std::string(cpuIsaName(isa)) + " attention D=" + std::to_string(D) +
                                              " S=" + std::to_string(S) + " err " + std::to_string(err))
                                                 .c_str());
                    }
                }
        // RMSNorm and SiLU(gate)·up against double.
        const int rows = 3, n = 200;
        std::vector<float> x(rows * n), weight(n), gateUp(rows * 2 * n);
        for (auto* vec : {&x, &weight, &gateUp})
            for (auto& e : *vec) e = nd(rng) * 3.0f;
        for (CpuIsa isa : supportedIsas()) {
            std::vector<float> normed(rows * n), act(rows * n);
            rms_norm(x.data(), weight.data(), rows, n, 1e-5f, normed.data(), isa);
            silu_mul(gateUp.data(), rows, n, act.data(), isa);
            for (int r = 0; r < rows; ++r) {
                double ss = 0;
                for (int i = 0; i < n; ++i) ss += double(x[r * n + i]) * x[r * n + i];
                const double inv = 1.0 / std::sqrt(ss / n + 1e-5);
                for (int i = 0; i < n; ++i) {
                    const double wantNorm = weight[i] * (x[r * n + i] * inv);
                    QVERIFY(std::abs(normed[r * n + i] - wantNorm) <= 1e-5 * std::max(1.0, std::abs(wantNorm)));
                    const double g = gateUp[r * 2 * n + i], u = gateUp[r * 2 * n + n + i];
                    const double wantAct = g / (1.0 + std::exp(-g)) * u;
                    QVERIFY2(std::abs(act[r * n + i] - wantAct) <= 1e-5 * std::max(1.0, std::abs(wantAct)),
                             cpuIsaName(isa));
                }
            }
        }
        // fp16 GEMV, with a K that is not a multiple of the vector width.
        const int K = 203, N = 24, M = 5;
        std::vector<uint16_t> w(static_cast<std::size_t>(N) * K);
        std::vector<float> xs(static_cast<std::size_t>(M) * K);
        for (auto& e : w) e = float_to_half(nd(rng) * 0.1f);
        for (auto& e : xs) e = nd(rng);
        for (CpuIsa isa : supportedIsas()) {
            std::vector<float> y(static_cast<std::size_t>(M) * N, NAN);
            f16_gemv(w.data(), K, N, xs.data(), K, M, y.data(), N, 0, N, isa);
            for (int m = 0; m < M; ++m)
                for (int nn = 0; nn < N; ++nn) {
                    double want = 0;
                    for (int k = 0; k < K; ++k) want += double(half_to_float(w[nn * K + k])) * xs[m * K + k];
                    QVERIFY2(std::abs(y[m * N + nn] - want) < 1e-4, cpuIsaName(isa));
                }
        }
    }

    void rejectsBadGeometry() {
        const Case c = makeCase(128, 64, 64, 2u);
        W4Matrix w = c.matrix(W4Packing::Gemm);
        w4_validate(w);
        auto rejects = [](W4Matrix bad, const char* needle) {
            try {
                w4_validate(bad);
            } catch (const std::invalid_argument& e) {
                QVERIFY2(std::string(e.what()).find(needle) != std::string::npos, e.what());
                return;
            }
            QFAIL(needle);
        };
        W4Matrix bad = w;
        bad.N = 60;
        rejects(bad, "multiples of 8");
        bad = w;
        bad.group = 96;
        rejects(bad, "multiple of the group size");
        bad = w;
        bad.K = 192;
        bad.group = 96;
        bad.packing = W4Packing::Gemv;
        rejects(bad, "group sizes 32, 64");
        bad = w;
        bad.scales = nullptr;
        rejects(bad, "null");
        // Ranges must start on a multiple of 8.
        std::vector<float> work(w4_prepare_floats(1, 128, 64)), x(128, 1.0f), y(64);
        w4_prepare(x.data(), 1, 128, 128, 64, work.data());
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 w4_gemv(w, x.data(), 128, work.data(), 1, y.data(), 64, 4, 64, CpuIsa::Scalar));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 w4_gemv(w, x.data(), 128, work.data(), 1, y.data(), 64, 0, 72, CpuIsa::Scalar));
        // The int8 path: VNNI only, group sizes that are multiples of 32, ranges on tiles of 32.
        QVERIFY(!w4_int8_gemm_supported(w, CpuIsa::Avx512));
        bad = w;
        bad.K = 96;
        bad.group = 48;
        QVERIFY(!w4_int8_gemm_supported(bad, CpuIsa::Avx512Vnni));
        if (cpuIsaSupported(CpuIsa::Avx512Vnni)) {
            std::vector<unsigned char> raw(w4_int8_rows_bytes(1, 128, 64) + 64);
            void* aligned = raw.data() + (64 - reinterpret_cast<std::uintptr_t>(raw.data()) % 64) % 64;
            w4_int8_quantize_rows(x.data(), 1, 128, 128, 64, aligned, 0, 1);
            QVERIFY_THROWS_EXCEPTION(std::invalid_argument, w4_int8_gemm(w, aligned, 1, y.data(), 64, 16, 64));
            QVERIFY_THROWS_EXCEPTION(std::invalid_argument, w4_int8_gemm(bad, aligned, 1, y.data(), 64, 0, 64));
        }
    }
};

QTEST_APPLESS_MAIN(TestW4Kernels)
#include "tst_w4_kernels.moc"
