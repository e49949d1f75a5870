// The int8-weight kernels (kernels/i8_linear.h: the `--lm-head int8` option) against a
// float64 oracle, at every instruction set this CPU runs: the quantizer's rounding and code
// order, then the product from the kernels' own weights (s · q) and the float activations.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "awq/kernels/i8_linear.h"
#include "awq/kernels/w4_linear.h"

using namespace awq::kernels;

namespace {

std::vector<float> randomValues(std::size_t n, uint32_t seed, float scale) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v)
        x = normal(rng);
    return v;
}

struct Quantized {
    int K, N;
    std::vector<uint8_t> codes;
    std::vector<float> scales;
    I8Matrix matrix() const { return I8Matrix{K, N, codes.data(), scales.data()}; }
};

Quantized quantize(const std::vector<float>& w, int N, int K) {
    Quantized q{K, N, std::vector<uint8_t>(static_cast<std::size_t>(N) * K),
                std::vector<float>(static_cast<std::size_t>(N) * (K / kI8Block))};
    i8_quantize(w.data(), N, K, q.codes.data(), q.scales.data(), 0, N);
    return q;
}

std::vector<CpuIsa> supportedIsas() {
    std::vector<CpuIsa> isas;
    for (CpuIsa isa : {CpuIsa::Scalar, CpuIsa::Avx2, CpuIsa::Avx512, CpuIsa::Avx512Vnni})
        if (cpuIsaSupported(isa))
            isas.push_back(isa);
    return isas;
}

}  // namespace

class TestI8Kernels : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // Each weight comes back within half a step (s = max|w| / 127 of its 128-input block), the
    // largest of each block exactly to ±127 steps, and i8_dequantize_row undoes the code order.
    void quantizeRoundsToTheNearestStep() {
        const int N = 5, K = 384;
        std::vector<float> w = randomValues(static_cast<std::size_t>(N) * K, 7, 0.02f);
        w[3] = 0.5f;                                                    // an outlier in row 0, block 0
        std::fill(w.begin() + K + 128, w.begin() + K + 256, 0.0f);      // an all-zero block (row 1, block 1)
        const Quantized q = quantize(w, N, K);
        std::vector<float> row(K);
        for (int n = 0; n < N; ++n) {
            i8_dequantize_row(q.matrix(), n, row.data());
            for (int b = 0; b < K / kI8Block; ++b) {
                const float* wb = w.data() + static_cast<std::size_t>(n) * K + kI8Block * b;
                float maxAbs = 0.0f;
                for (int k = 0; k < kI8Block; ++k)
                    maxAbs = std::max(maxAbs, std::abs(wb[k]));
                const float s = q.scales[static_cast<std::size_t>(n) * (K / kI8Block) + b];
                if (maxAbs == 0.0f)
                    QCOMPARE(s, 1.0f);
                else
                    QCOMPARE(s, maxAbs / 127.0f);
                for (int k = 0; k < kI8Block; ++k) {
                    const double err = std::abs(static_cast<double>(row[kI8Block * b + k]) - wb[k]);
                    if (err > 0.5 * s * (1.0 + 1e-5))
                        QFAIL(qPrintable(QString("row %1 input %2: %3 vs %4 (step %5)")
                                             .arg(n).arg(kI8Block * b + k).arg(row[kI8Block * b + k]).arg(wb[k]).arg(s)));
                }
            }
        }
        i8_dequantize_row(q.matrix(), 0, row.data());
        QVERIFY(std::abs(row[3] - 0.5f) < 1e-7f);  // the block maximum is 127 steps
    }

    void rejectsWhatItCannotHold() {
        std::vector<float> w(100 * 2, 0.1f);
        std::vector<uint8_t> codes(w.size());
        std::vector<float> scales(2);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, i8_quantize(w.data(), 2, 100, codes.data(), scales.data(), 0, 2));
        std::vector<float> bad(128, 0.1f);
        bad[77] = std::numeric_limits<float>::infinity();
        std::vector<uint8_t> c1(128);
        std::vector<float> s1(1);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, i8_quantize(bad.data(), 1, 128, c1.data(), s1.data(), 0, 1));
        const Quantized q = quantize(randomValues(128 * 8, 3, 0.1f), 8, 128);
        std::vector<float> x(128, 1.0f), y(8);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 i8_gemv(q.matrix(), x.data(), nullptr, 1, y.data(), 8, 0, 9, CpuIsa::Scalar));
    }

    // y = x · (s q)ᵀ against float64, for 1-9 rows, channel counts that are not a multiple of
    // the 4-channel pass, and a sub-range of channels (the others untouched). The VNNI path
    // reads 16-bit fixed-point activations: its bound adds their rounding, max|x| / 65278 of
    // each 128-input block per element (Note [fixed-point activations]).
    void gemvMatchesTheFloat64Oracle_data() {
        QTest::addColumn<int>("K");
        QTest::addColumn<int>("N");
        QTest::addColumn<int>("M");
        QTest::addColumn<int>("n0");
        QTest::addColumn<int>("n1");
        QTest::newRow("lm_head-like, 1 row") << 512 << 203 << 1 << 0 << 203;
        QTest::newRow("1 row, a sub-range") << 256 << 64 << 1 << 8 << 43;
        QTest::newRow("3 rows") << 384 << 37 << 3 << 0 << 37;
        QTest::newRow("9 rows (two blocks of 4 and one)") << 256 << 50 << 9 << 0 << 50;
        QTest::newRow("9 rows, a sub-range") << 128 << 70 << 9 << 16 << 69;
    }
    void gemvMatchesTheFloat64Oracle() {
        QFETCH(int, K);
        QFETCH(int, N);
        QFETCH(int, M);
        QFETCH(int, n0);
        QFETCH(int, n1);
        std::vector<float> w = randomValues(static_cast<std::size_t>(N) * K, 11, 0.03f);
        std::vector<float> x = randomValues(static_cast<std::size_t>(M) * K, 12, 1.0f);
        x[5] = 40.0f;  // an activation outlier: its block's fixed-point step grows with it
        const Quantized q = quantize(w, N, K);
        std::vector<float> deq(static_cast<std::size_t>(N) * K);
        for (int n = 0; n < N; ++n)
            i8_dequantize_row(q.matrix(), n, deq.data() + static_cast<std::size_t>(n) * K);
        std::vector<float> prepared(w4_prepare_floats(M, K, kI8Block));
        w4_prepare(x.data(), M, K, K, kI8Block, prepared.data());
        for (CpuIsa isa : supportedIsas()) {
            const float sentinel = -12345.0f;
            std::vector<float> y(static_cast<std::size_t>(M) * N, sentinel);
            i8_gemv(q.matrix(), x.data(), prepared.data(), M, y.data(), N, n0, n1, isa);
            for (int m = 0; m < M; ++m)
                for (int n = 0; n < N; ++n) {
                    const float got = y[static_cast<std::size_t>(m) * N + n];
                    if (n < n0 || n >= n1) {
                        QCOMPARE(got, sentinel);
                        continue;
                    }
                    double exact = 0.0, magnitude = 0.0, activationBound = 0.0;
                    for (int b = 0; b < K / kI8Block; ++b) {
                        double maxAbs = 0.0;
                        for (int k = kI8Block * b; k < kI8Block * (b + 1); ++k)
                            maxAbs = std::max(maxAbs, std::abs(static_cast<double>(x[static_cast<std::size_t>(m) * K + k])));
                        for (int k = kI8Block * b; k < kI8Block * (b + 1); ++k) {
                            const double wk = deq[static_cast<std::size_t>(n) * K + k];
                            const double xk = x[static_cast<std::size_t>(m) * K + k];
                            exact += wk * xk;
                            magnitude += std::abs(wk * xk);
                            activationBound += std::abs(wk) * maxAbs / 65278.0;
                        }
                    }
                    const double bound = 1e-5 * magnitude + (i8_gemv_fast(isa) ? activationBound : 0.0) + 1e-6;
                    if (std::abs(got - exact) > bound)
                        QFAIL(qPrintable(QString("%1: row %2 channel %3: %4 vs %5 (bound %6)")
                                             .arg(cpuIsaName(isa)).arg(m).arg(n).arg(got).arg(exact).arg(bound)));
                }
        }
    }
};

QTEST_APPLESS_MAIN(TestI8Kernels)
#include "tst_i8_kernels.moc"
