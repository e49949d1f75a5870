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
#include "w4_internal.h"  // kernels/cpu: the workspace layout (detail::preparedView)

using namespace awq::kernels;

namespace {

// One random quantized linear, kept as codes (the truth) and in both packings.
struct Case {
    int K, N, group;
    std::vector<uint8_t> codes;   // [N][K]
    std::vector<uint8_t> zeros;   // [N][G]
    std::vector<float> scale;     // [N][G], exactly fp16 values
    std::vector<int32_t> gemmQ, gemmZ, gemvQ, gemvZ;
    std::vector<uint16_t> gemmS, gemvS;

    W4Matrix matrix(W4Packing packing) const {
        W4Matrix m;
        m.packing = packing;
        m.K = K;
        m.N = N;
        m.group = group;
        const bool gemm = packing == W4Packing::Gemm;
        m.qweight = gemm ? gemmQ.data() : gemvQ.data();
        m.qzeros = gemm ? gemmZ.data() : gemvZ.data();
        m.scales = gemm ? gemmS.data() : gemvS.data();
        return m;
    }
    // Exact dequantized weight (q - z) * s in double.
    double weight(int n, int k) const {
        const int gi = k / group, G = K / group;
        return (static_cast<int>(codes[static_cast<std::size_t>(n) * K + k]) -
                static_cast<int>(zeros[static_cast<std::size_t>(n) * G + gi])) *
               static_cast<double>(scale[static_cast<std::size_t>(n) * G + gi]);
    }
};

Case makeCase(int K, int N, int group, uint32_t seed, bool withGemv = true) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> code(0, 15);
    std::uniform_real_distribution<float> mag(1e-3f, 0.05f);
    Case c{K, N, group, {}, {}, {}, {}, {}, {}, {}, {}, {}};
    const int G = K / group;
    c.codes.resize(static_cast<std::size_t>(N) * K);
    for (auto& v : c.codes) v = static_cast<uint8_t>(code(rng));
    c.zeros.resize(static_cast<std::size_t>(N) * G);
    for (auto& v : c.zeros) v = static_cast<uint8_t>(code(rng));
    c.scale.resize(c.zeros.size());
    std::vector<uint16_t> scaleBits(c.zeros.size());
    for (std::size_t i = 0; i < c.scale.size(); ++i) {
        float s = mag(rng);
        if (i % 7 == 3) s = -s;  // the kernels must not assume positive scales
        scaleBits[i] = float_to_half(s);
        c.scale[i] = half_to_float(scaleBits[i]);
    }
    // GEMM: qweight [K][N/8] packs codes given as [N][K]; zeros [G][N/8]; scales [G][N].
    c.gemmQ.resize(static_cast<std::size_t>(K) * N / 8);
    pack_gemm(c.codes.data(), K, N, c.gemmQ.data());
    c.gemmZ.resize(static_cast<std::size_t>(G) * N / 8);
    pack_gemm_zeros(c.zeros.data(), G, N, c.gemmZ.data());
    c.gemmS.resize(static_cast<std::size_t>(G) * N);
    for (int n = 0; n < N; ++n)
        for (int gi = 0; gi < G; ++gi)
            c.gemmS[static_cast<std::size_t>(gi) * N + n] = scaleBits[static_cast<std::size_t>(n) * G + gi];
    if (withGemv) {
        const int ZW = gemvZerosWidth(K, group);
        c.gemvQ.resize(static_cast<std::size_t>(N) * K / 8);
        pack_gemv(c.codes.data(), K, N, c.gemvQ.data());
        c.gemvZ.resize(static_cast<std::size_t>(N) * ZW);
        pack_gemv_zeros(c.zeros.data(), K, N, group, c.gemvZ.data());
        c.gemvS.assign(static_cast<std::size_t>(N) * ZW * 8, 0);
        for (int n = 0; n < N; ++n)
            for (int gi = 0; gi < G; ++gi)
                c.gemvS[static_cast<std::size_t>(n) * ZW * 8 + gi] = scaleBits[static_cast<std::size_t>(n) * G + gi];
    }
    return c;
}

std::vector<float> randomActivations(int M, int ld, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> x(static_cast<std::size_t>(M) * ld);
    for (auto& v : x) v = d(rng);
    return x;
}

// y = x · W^T in double over the exact weights.
std::vector<double> reference(const Case& c, const std::vector<float>& x, int M, int ldx) {
    std::vector<double> w(static_cast<std::size_t>(c.N) * c.K);
    for (int n = 0; n < c.N; ++n)
        for (int k = 0; k < c.K; ++k) w[static_cast<std::size_t>(n) * c.K + k] = c.weight(n, k);
    std::vector<double> y(static_cast<std::size_t>(M) * c.N, 0.0);
    for (int m = 0; m < M; ++m)
        for (int n = 0; n < c.N; ++n) {
            double acc = 0.0;
            const double* wr = &w[static_cast<std::size_t>(n) * c.K];
            const float* xr = &x[static_cast<std::size_t>(m) * ldx];
            for (int k = 0; k < c.K; ++k) acc += wr[k] * xr[k];
            y[static_cast<std::size_t>(m) * c.N + n] = acc;
        }
    return y;
}

// max |y - ref| / max |ref| over the columns [n0, n1).
double relativeError(const std::vector<float>& y, int ldy, const std::vector<double>& ref, int M, int N, int n0,
                     int n1) {
    double err = 0.0, scale = 0.0;
    for (int m = 0; m < M; ++m)
        for (int n = n0; n < n1; ++n) {
            const double r = ref[static_cast<std::size_t>(m) * N + n];
            err = std::max(err, std::abs(y[static_cast<std::size_t>(m) * ldy + n] - r));
            scale = std::max(scale, std::abs(r));
        }
    return scale > 0 ? err / scale : err;
}

// The VNNI kernel's batched rows multiply int8 activations (Note [int8 activations for
// batches]): each output must lie within Σ|w| · max|x| / 254 over its 128-input blocks (half
// an int8 step per activation), plus float rounding. Returns the first violation, or "".
std::string int8RowsError(const Case& c, const std::vector<float>& x, const std::vector<float>& y,
                          const std::vector<double>& ref, int M) {
    const int K = c.K, N = c.N;
    for (int m = 0; m < M; ++m)
        for (int n = 0; n < N; ++n) {
            double bound = 0.0, magnitude = 0.0;
            for (int b = 0; b < K / 128; ++b) {
                double maxAbs = 0.0, sumW = 0.0;
                for (int k = 128 * b; k < 128 * (b + 1); ++k) {
                    const double xk = x[static_cast<std::size_t>(m) * K + k];
                    maxAbs = std::max(maxAbs, std::abs(xk));
                    sumW += std::abs(c.weight(n, k));
                    magnitude += std::abs(c.weight(n, k) * xk);
                }
                bound += sumW * maxAbs / 254.0;
            }
            const std::size_t i = static_cast<std::size_t>(m) * N + n;
            const double err = std::abs(y[i] - ref[i]);
            if (err > bound * (1 + 1e-5) + 1e-5 * magnitude)
                return "int8 rows m=" + std::to_string(m) + " n=" + std::to_string(n) + ": error " +
                       std::to_string(err) + " > bound " + std::to_string(bound);
        }
    return {};
}

std::vector<CpuIsa> supportedIsas() {
    std::vector<CpuIsa> isas;
    for (CpuIsa isa : kAllCpuIsas)
        if (cpuIsaSupported(isa)) isas.push_back(isa);
    return isas;
}

std::vector<float> runGemv(const Case& c, W4Packing packing, CpuIsa isa, const std::vector<float>& x, int M, int ldx,
                           int ldy, int n0, int n1, float fill = NAN) {
    std::vector<float> work(w4_prepare_floats(M, c.K, c.group));
    w4_prepare(x.data(), M, c.K, ldx, c.group, work.data());
    std::vector<float> y(static_cast<std::size_t>(M) * ldy, fill);
    w4_gemv(c.matrix(packing), x.data(), ldx, work.data(), M, y.data(), ldy, n0, n1, isa);
    return y;
}

std::string label(const Case& c, W4Packing p, CpuIsa isa, int M) {
    return std::string(p == W4Packing::Gemm ? "gemm" : "gemv") + " " + cpuIsaName(isa) + " K=" + std::to_string(c.K) +
           " N=" + std::to_string(c.N) + " g=" + std::to_string(c.group) + " M=" + std::to_string(M);
}

}  // namespace

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
                    // Batched rows on the VNNI g128 kernel multiply the int8 copy of the
                    // activations (Note [int8 activations for batches]): each output within
                    // Σ|w| · max|x| / 254 of its 128-input blocks, plus float rounding.
                    const bool int8Rows = isa == CpuIsa::Avx512Vnni && p == W4Packing::Gemv && group == 128 &&
                                          M >= 2 && K % 128 == 0;
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
                // The int8 copy (M = 3 >= kInt8ActivationRows): s = max|x| / 127, v in [-127, 127].
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
