// The quantization math on plain tensors: the group quantizer (docs/awq-format.md §1.8), the GEMM and
// GEMV packing (§2.1, §2.2), the scale search (§1.5) and the clip search (§1.7). Exact
// values wherever the spec fixes them. Calibration data: tst_calibration.cpp.

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <functional>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <c10/util/Half.h>
#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/kernels/awq_format.h"
#include "awq/kernels/awq_unpack.h"
#include "awq/quant/awq_pack.h"
#include "awq/quant/awq_search.h"
#include "awq/quant/calibration.h"
#include "awq/quant/pseudo_quant.h"
#include "awq/runtime/threads.h"
#include "awq/tokenizer/tokenizer.h"
#include "fixture_model.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace awq;
using namespace awq::test;

namespace {






QuantizerSpec spec(int bits, int64_t groupSize, bool zeroPoint)
{
    QuantizerSpec s;
    s.bits = bits;
    s.groupSize = groupSize;
    s.zeroPoint = zeroPoint;
    return s;
}

at::Tensor row(const std::vector<float> &values)
{
    return at::tensor(values, at::kFloat).reshape({1, static_cast<int64_t>(values.size())});
}

float halfRound(float x)
{
    return static_cast<float>(c10::Half(x));
}

// A slow scalar model of pseudoQuantize(..., Fp16): the input is rounded to fp16, and every
// elementwise result is computed in float32 and rounded to fp16 (ties to even), in the
// order of docs/awq-format.md §1.8.
struct ScalarQuant {
    std::vector<float> dequantized; // [rows * K]
    std::vector<float> scales;      // [rows * G]
    std::vector<float> zeros;       // [rows * G] (zero-point only)
    std::vector<uint8_t> codes;     // [rows * K]
};

ScalarQuant scalarFp16Quantize(const at::Tensor &w, const QuantizerSpec &s)
{
    auto wc = w.contiguous();
    const float *p = wc.data_ptr<float>();
    const int64_t rows = wc.size(0), k = wc.size(1), g = s.groupSize, groups = k / g;
    ScalarQuant out;
    out.dequantized.resize(rows * k);
    out.codes.resize(rows * k);
    out.scales.resize(rows * groups);
    out.zeros.resize(rows * groups);
    std::vector<float> v(g);
    for (int64_t r = 0; r < rows; ++r) {
        for (int64_t grp = 0; grp < groups; ++grp) {
            const int64_t base = r * k + grp * g;
            for (int64_t i = 0; i < g; ++i)
                v[i] = halfRound(p[base + i]);
            if (s.zeroPoint) {
                const float qmax = static_cast<float>((1 << s.bits) - 1);
                const float maxv = *std::max_element(v.begin(), v.end());
                const float minv = *std::min_element(v.begin(), v.end());
                const float range = halfRound(std::max(halfRound(maxv - minv), 1e-5f));
                const float scale = halfRound(range / qmax);
                const float zero = std::clamp(-std::nearbyint(halfRound(minv / scale)), 0.0f, qmax);
                out.scales[r * groups + grp] = scale;
                out.zeros[r * groups + grp] = zero;
                for (int64_t i = 0; i < g; ++i) {
                    const float q = std::clamp(std::nearbyint(halfRound(v[i] / scale)) + zero, 0.0f, qmax);
                    out.codes[base + i] = static_cast<uint8_t>(q);
                    out.dequantized[base + i] = halfRound((q - zero) * scale);
                }
            } else {
                const float qmax = static_cast<float>((1 << (s.bits - 1)) - 1);
                const float qmin = -static_cast<float>(1 << (s.bits - 1));
                float amax = 0;
                for (float x : v)
                    amax = std::max(amax, std::abs(x));
                amax = halfRound(std::max(amax, 1e-5f));
                const float scale = halfRound(amax / qmax);
                out.scales[r * groups + grp] = scale;
                for (int64_t i = 0; i < g; ++i) {
                    const float q = std::clamp(std::nearbyint(halfRound(v[i] / scale)), qmin, qmax);
                    out.codes[base + i] = static_cast<uint8_t>(q - qmin);
                    out.dequantized[base + i] = halfRound(q * scale);
                }
            }
        }
    }
    return out;
}


// Random weights with a mix of scales, an all-positive row, an all-negative row, an
// all-zero group and a row of tiny values (the scale floor).
at::Tensor mixedWeights(int64_t rows, int64_t k, int64_t g)
{
    auto w = at::randn({rows, k}) * 0.05;
    w[1] = w[1] * 40.0;
    w[2] = w[2].abs() + 0.5;     // all positive: zero clamped to 0
    w[3] = -(w[3].abs() + 0.25); // all negative: zero clamped to 2^b - 1
    w[4].slice(0, 0, g).zero_(); // an all-zero group
    w[5] = w[5] * 1e-5;          // range below the 1e-5 floor in most groups
    return w;
}

// Expand [rows, G] per-group values to [rows, K].
at::Tensor perColumn(const at::Tensor &perGroup, int64_t g)
{
    return perGroup.repeat_interleave(g, 1);
}

at::Tensor dequantizePacked(const PackedLinear &p, const std::string &version, int K, int N, int g)
{
    std::vector<float> out(static_cast<size_t>(N) * K, -1.0f);
    auto qw = p.qweight.contiguous(), qz = p.qzeros.contiguous(), sc = p.scales.contiguous();
    const auto *scales = reinterpret_cast<const uint16_t *>(sc.data_ptr<at::Half>());
    if (version == "gemm")
        kernels::dequantize_gemm(qw.data_ptr<int32_t>(), qz.data_ptr<int32_t>(), scales, K, N, g, out.data());
    else
        kernels::dequantize_gemv(qw.data_ptr<int32_t>(), qz.data_ptr<int32_t>(), scales, K, N, g, out.data());
    return fromVector(out, at::kFloat, {N, K});
}

// The expected clip grid values for a max|w|: maxAbs * (1 - i/nGrid), i < maxShrink*nGrid.
bool isGridValue(const at::Tensor &maxAbs, float value, int nGrid = 20, int steps = 10)
{
    for (int i = 0; i < steps; ++i) {
        const float m = (maxAbs * (1.0 - static_cast<double>(i) / nGrid)).item<float>();
        if (m == value)
            return true;
    }
    return false;
}

} // namespace

class TestQuantMath : public QObject
{
    Q_OBJECT
    std::unique_ptr<Tokenizer> m_tok;
    fs::path m_dir;

private Q_SLOTS:
    void initTestCase()
    {
        configureThreads();
        m_dir = awq::test::makeTempDir("quant-math");
    }

    // ---------------------------------------------------------------- pseudo-quantizer

    void workedExampleZeroPoint()
    {
        const auto q = pseudoQuantize(row({-0.5f, 1.0f, 0.23f, 0.0f}), spec(4, 4, true), QuantPrecision::Float32,
                                      /*wantCodes=*/true);
        QCOMPARE(shape(q.scales), (Shape{1, 1}));
        QCOMPARE(shape(q.zeros), (Shape{1, 1}));
        QCOMPARE(q.codes.scalar_type(), at::kByte);
        QCOMPARE(shape(q.dequantized), (Shape{1, 4}));
        QVERIFY(std::abs(q.scales[0][0].item<float>() - 0.1f) < 1e-6f);
        EXACT(q.zeros[0][0].item<float>(), 5.0f);
        QVERIFY(std::abs(q.dequantized[0][2].item<float>() - 0.2f) < 1e-6f);
        QCOMPARE(int(q.codes[0][2].item<uint8_t>()), 7);
        // min -> code 0 (-0.5), max -> 15 (1.0), 0 -> the zero point.
        QCOMPARE(int(q.codes[0][0].item<uint8_t>()), 0);
        QCOMPARE(int(q.codes[0][1].item<uint8_t>()), 15);
        QCOMPARE(int(q.codes[0][3].item<uint8_t>()), 5);
        QVERIFY(std::abs(q.dequantized[0][0].item<float>() + 0.5f) < 1e-6f);
        QVERIFY(std::abs(q.dequantized[0][1].item<float>() - 1.0f) < 1e-6f);
        EXACT(q.dequantized[0][3].item<float>(), 0.0f);
        // Codes are only computed on request.
        QVERIFY(!pseudoQuantize(row({-0.5f, 1.0f, 0.23f, 0.0f}), spec(4, 4, true)).codes.defined());
    }

    void roundsHalfToEven()
    {
        const auto q = pseudoQuantize(row({7.0f, 2.5f, 3.5f, -0.5f}), spec(4, 4, false), QuantPrecision::Float32, true);
        EXACT(q.scales[0][0].item<float>(), 1.0f);
        QVERIFY(!q.zeros.defined());
        EXACT(q.dequantized[0][0].item<float>(), 7.0f);
        EXACT(q.dequantized[0][1].item<float>(), 2.0f); // 2.5 -> 2
        EXACT(q.dequantized[0][2].item<float>(), 4.0f); // 3.5 -> 4
        EXACT(q.dequantized[0][3].item<float>(), 0.0f); // -0.5 -> -0
        // Symmetric codes are q + 8.
        QCOMPARE(int(q.codes[0][0].item<uint8_t>()), 15);
        QCOMPARE(int(q.codes[0][1].item<uint8_t>()), 10);
        QCOMPARE(int(q.codes[0][2].item<uint8_t>()), 12);
        QCOMPARE(int(q.codes[0][3].item<uint8_t>()), 8);
    }

    void codesStayInRange_data()
    {
        QTest::addColumn<int>("bits");
        QTest::addColumn<bool>("zeroPoint");
        QTest::newRow("4-bit zero point") << 4 << true;
        QTest::newRow("4-bit symmetric") << 4 << false;
        QTest::newRow("3-bit zero point") << 3 << true;
        QTest::newRow("3-bit symmetric") << 3 << false;
    }

    void codesStayInRange()
    {
        QFETCH(int, bits);
        QFETCH(bool, zeroPoint);
        at::manual_seed(11);
        const int64_t g = 32;
        auto w = at::randn({48, 256});
        w = w * at::rand({48, 1}) * 3.0; // rows of different magnitudes
        w[0] = w[0].abs() + 2.0;         // all positive: zero clamped, the max saturates
        w[1] = -(w[1].abs() + 2.0);      // all negative
        const auto s = spec(bits, g, zeroPoint);
        for (auto precision : {QuantPrecision::Float32, QuantPrecision::Fp16}) {
            const auto q = pseudoQuantize(w, s, precision, true);
            const int codeMax = (1 << bits) - 1;
            QCOMPARE(int(q.codes.max().item<uint8_t>()), codeMax);
            QCOMPARE(shape(q.codes), shape(w));
            const auto codes = q.codes.to(at::kFloat);
            const auto scales = perColumn(q.scales, g);
            if (zeroPoint) {
                EXACT(q.zeros.min().item<float>(), 0.0f);
                QVERIFY(q.zeros.max().item<float>() <= codeMax);
                QVERIFY(at::equal(q.zeros, at::round(q.zeros)));
                QVERIFY(q.zeros.max().item<float>() == codeMax); // the all-negative row
                // The dequantized weight is exactly (code - zero) * scale.
                auto expected = (codes - perColumn(q.zeros, g)) * scales;
                if (precision == QuantPrecision::Fp16)
                    expected = expected.to(at::kHalf).to(at::kFloat);
                QVERIFY(at::equal(q.dequantized, expected));
            } else {
                // q = code - 2^(b-1) within -2^(b-1) .. 2^(b-1) - 1; with scale = amax / qmax
                // the value -2^(b-1) is never reached.
                const int half = 1 << (bits - 1);
                QVERIFY(int(q.codes.min().item<uint8_t>()) >= 1);
                auto expected = (codes - half) * scales;
                if (precision == QuantPrecision::Fp16)
                    expected = expected.to(at::kHalf).to(at::kFloat);
                QVERIFY(at::equal(q.dequantized, expected));
            }
            // Rounding error is at most half a step (plus fp16 rounding in Fp16 mode), except in
            // the all-positive / all-negative rows, where the clamped zero saturates codes.
            const auto err = (q.dequantized - w).abs().slice(0, 2);
            const double slack = precision == QuantPrecision::Fp16 ? 0.05 : 1e-4;
            QVERIFY((err <= scales.slice(0, 2) * 0.5 * (1 + slack)).all().item<bool>());
        }
    }

    void scaleFloorOnZeroGroup()
    {
        const auto zp = pseudoQuantize(at::zeros({2, 8}), spec(4, 4, true), QuantPrecision::Float32, true);
        // clamp(max - min, 1e-5) / 15, all in float32.
        const float expectedZp = 1e-5f / 15.0f;
        QCOMPARE(shape(zp.scales), (Shape{2, 2}));
        QVERIFY(at::equal(zp.scales, at::full({2, 2}, expectedZp)));
        QVERIFY(at::equal(zp.zeros, at::zeros({2, 2})));
        QVERIFY(at::equal(zp.dequantized, at::zeros({2, 8})));
        QVERIFY(at::equal(zp.codes, at::zeros({2, 8}, at::kByte)));

        const auto sym = pseudoQuantize(at::zeros({1, 4}), spec(4, 4, false), QuantPrecision::Float32, true);
        EXACT(sym.scales[0][0].item<float>(), 1e-5f / 7.0f);
        QVERIFY(at::equal(sym.dequantized, at::zeros({1, 4})));
        QVERIFY(at::equal(sym.codes, at::full({1, 4}, 8, at::kByte)));
    }

    void allPositiveGroupClamps()
    {
        // docs/awq-format.md §1.8: the range is [min, max], the zero clamps to 0, so the top saturates.
        const auto q = pseudoQuantize(row({1.0f, 2.0f, 3.0f, 4.0f}), spec(4, 4, true), QuantPrecision::Float32, true);
        QVERIFY(std::abs(q.scales[0][0].item<float>() - 0.2f) < 1e-7f);
        EXACT(q.zeros[0][0].item<float>(), 0.0f);
        EXACT(q.dequantized[0][3].item<float>(), 3.0f);
        QCOMPARE(int(q.codes[0][3].item<uint8_t>()), 15);
        QCOMPARE(int(q.codes[0][2].item<uint8_t>()), 15);
        QCOMPARE(int(q.codes[0][1].item<uint8_t>()), 10);
        QCOMPARE(int(q.codes[0][0].item<uint8_t>()), 5);
        QVERIFY(std::abs(q.dequantized[0][0].item<float>() - 1.0f) < 1e-6f);
        QVERIFY(std::abs(q.dequantized[0][1].item<float>() - 2.0f) < 1e-6f);
        QVERIFY(std::abs(q.dequantized[0][2].item<float>() - 3.0f) < 1e-6f);
    }

    void fp16MatchesScalarReference_data()
    {
        QTest::addColumn<int>("bits");
        QTest::addColumn<int>("groupSize");
        QTest::addColumn<bool>("zeroPoint");
        QTest::newRow("4-bit g128 zero point") << 4 << 128 << true;
        QTest::newRow("4-bit g32 zero point") << 4 << 32 << true;
        QTest::newRow("4-bit g64 symmetric") << 4 << 64 << false;
        QTest::newRow("3-bit g64 zero point") << 3 << 64 << true;
        QTest::newRow("8-bit g128 symmetric") << 8 << 128 << false;
    }

    void fp16MatchesScalarReference()
    {
        QFETCH(int, bits);
        QFETCH(int, groupSize);
        QFETCH(bool, zeroPoint);
        at::manual_seed(2024 + bits * 7 + groupSize);
        const auto w = mixedWeights(32, 512, groupSize);
        const auto s = spec(bits, groupSize, zeroPoint);
        const auto q = pseudoQuantize(w, s, QuantPrecision::Fp16, true);
        const auto ref = scalarFp16Quantize(w, s);
        const int64_t rows = w.size(0), k = w.size(1), groups = k / groupSize;

        // Everything written is fp16-representable.
        QVERIFY(at::equal(q.scales, q.scales.to(at::kHalf).to(at::kFloat)));
        QVERIFY(at::equal(q.dequantized, q.dequantized.to(at::kHalf).to(at::kFloat)));

        const auto refScales = fromVector(ref.scales, at::kFloat, {rows, groups});
        const auto refDeq = fromVector(ref.dequantized, at::kFloat, {rows, k});
        const auto refCodes = fromVector(ref.codes, at::kByte, {rows, k});
        QVERIFY2(at::equal(q.scales, refScales),
                 qPrintable(QString("scales differ at %1 places").arg(q.scales.ne(refScales).sum().item<int64_t>())));
        QVERIFY2(at::equal(q.codes, refCodes),
                 qPrintable(QString("codes differ at %1 places").arg(q.codes.ne(refCodes).sum().item<int64_t>())));
        QVERIFY2(at::equal(q.dequantized, refDeq),
                 qPrintable(QString("dequantized differ at %1 places").arg(q.dequantized.ne(refDeq).sum().item<int64_t>())));
        if (zeroPoint)
            QVERIFY(at::equal(q.zeros, fromVector(ref.zeros, at::kFloat, {rows, groups})));
        else
            QVERIFY(!q.zeros.defined());

        // Fp16 is not just float32: on this data the two precisions give different scales.
        const auto f32 = pseudoQuantize(w, s, QuantPrecision::Float32);
        QVERIFY(!at::equal(f32.scales, q.scales));
    }

    void rejectsBadInput()
    {
        auto w = at::randn({4, 16});
        w[2][5] = std::nanf("");
        auto nan = catchError([&] { pseudoQuantize(w, spec(4, 8, true)); });
        QVERIFY(nan.thrown);
        QCOMPARE(nan.code, ErrorCode::Format);
        QVERIFY(contains(nan.message, "NaN"));
        nan = catchError([&] { pseudoQuantize(w, spec(4, 8, false), QuantPrecision::Fp16); });
        QVERIFY(nan.thrown);
        QCOMPARE(nan.code, ErrorCode::Format);

        auto badGroup = catchError([&] { pseudoQuantize(at::randn({4, 24}), spec(4, 16, true)); });
        QVERIFY(badGroup.thrown);
        QCOMPARE(badGroup.code, ErrorCode::InvalidArgument);
        QVERIFY(contains(badGroup.message, "16"));
        QVERIFY(contains(badGroup.message, "24"));
        auto zeroGroup = catchError([&] { pseudoQuantize(at::randn({4, 24}), spec(4, 0, true)); });
        QVERIFY(zeroGroup.thrown);
        QCOMPARE(zeroGroup.code, ErrorCode::InvalidArgument);
        auto badBits = catchError([&] { pseudoQuantize(at::randn({4, 16}), spec(1, 8, true)); });
        QVERIFY(badBits.thrown);
        QCOMPARE(badBits.code, ErrorCode::InvalidArgument);
        auto badDim = catchError([&] { pseudoQuantize(at::randn({16}), spec(4, 8, true)); });
        QVERIFY(badDim.thrown);
        QCOMPARE(badDim.code, ErrorCode::InvalidArgument);
        auto badType = catchError([&] { pseudoQuantize(at::randn({4, 16}).to(at::kHalf), spec(4, 8, true)); });
        QVERIFY(badType.thrown);
        QCOMPARE(badType.code, ErrorCode::InvalidArgument);
    }

    void fakeQuantizeEqualsPseudoQuantize()
    {
        at::manual_seed(5);
        const auto w = mixedWeights(24, 384, 128);
        for (int bits : {2, 3, 4, 8}) {
            for (bool zp : {true, false}) {
                for (int64_t g : {int64_t(32), int64_t(128), int64_t(384)}) {
                    const auto s = spec(bits, g, zp);
                    QVERIFY2(at::equal(fakeQuantize(w, s), pseudoQuantize(w, s, QuantPrecision::Float32).dequantized),
                             qPrintable(QString("bits %1 zp %2 g %3").arg(bits).arg(zp).arg(g)));
                }
            }
        }
        // Non-contiguous input (a transposed view) gives the same result as its contiguous copy.
        const auto t = at::randn({256, 16}).t();
        QVERIFY(at::equal(fakeQuantize(t, spec(4, 64, true)), fakeQuantize(t.contiguous(), spec(4, 64, true))));
        QVERIFY(at::equal(pseudoQuantize(t, spec(4, 64, true)).dequantized,
                          pseudoQuantize(t.contiguous(), spec(4, 64, true)).dequantized));
    }

    // ---------------------------------------------------------------- packing

    void packLinearRoundTrips_data()
    {
        QTest::addColumn<QString>("version");
        QTest::addColumn<int>("groupSize");
        QTest::newRow("gemm g128") << "gemm" << 128;
        QTest::newRow("gemm g64") << "gemm" << 64;
        QTest::newRow("gemv g128") << "gemv" << 128;
        QTest::newRow("gemv g64") << "gemv" << 64;
    }

    void packLinearRoundTrips()
    {
        QFETCH(QString, version);
        QFETCH(int, groupSize);
        const std::string v = version.toStdString();
        const int N = 64, K = 256, g = groupSize, G = K / g;
        at::manual_seed(77 + g);
        auto w = at::randn({N, K}) * 0.05;
        w[3] = w[3].abs() + 0.01; // an all-positive row
        auto bias = at::randn({N});
        const auto packed = packLinear(w, bias, spec(4, g, true), v);

        QCOMPARE(packed.qweight.scalar_type(), at::kInt);
        QCOMPARE(packed.qzeros.scalar_type(), at::kInt);
        QCOMPARE(packed.scales.scalar_type(), at::kHalf);
        QCOMPARE(packed.dequantized.scalar_type(), at::kFloat);
        QCOMPARE(shape(packed.dequantized), (Shape{N, K}));
        QCOMPARE(packed.bias.scalar_type(), at::kHalf);
        QVERIFY(at::equal(packed.bias, bias.to(at::kHalf)));

        // What the loader reconstructs is what the fp16 quantizer produced.
        const auto ref = pseudoQuantize(w.to(at::kHalf).to(at::kFloat), spec(4, g, true), QuantPrecision::Fp16, true);
        QVERIFY(at::equal(packed.dequantized, ref.dequantized));

        std::vector<uint8_t> codes(static_cast<size_t>(N) * K);
        if (v == "gemm") {
            QCOMPARE(shape(packed.qweight), (Shape{K, N / 8}));
            QCOMPARE(shape(packed.qzeros), (Shape{G, N / 8}));
            QCOMPARE(shape(packed.scales), (Shape{G, N}));
            QVERIFY(at::equal(packed.scales, ref.scales.t().to(at::kHalf)));
            auto qw = packed.qweight.contiguous();
            kernels::unpack_gemm(qw.data_ptr<int32_t>(), K, N, codes.data());
        } else {
            const int zw = kernels::gemvZerosWidth(K, g);
            QCOMPARE(zw, g == 128 ? 1 : 2);
            QCOMPARE(shape(packed.qweight), (Shape{N, K / 8}));
            QCOMPARE(shape(packed.qzeros), (Shape{N, zw}));
            QCOMPARE(shape(packed.scales), (Shape{N, zw * 8}));
            QVERIFY(at::equal(packed.scales.narrow(1, 0, G), ref.scales.to(at::kHalf)));
            // Padding: scale columns >= G and zero nibbles >= G are 0.
            QVERIFY(at::equal(packed.scales.narrow(1, G, zw * 8 - G).to(at::kFloat), at::zeros({N, zw * 8 - G})));
            auto qz = packed.qzeros.contiguous();
            for (int n = 0; n < N; ++n)
                for (int i = G; i < zw * 8; ++i)
                    QCOMPARE(kernels::awq_nibble(qz[n][i / 8].item<int32_t>(), i % 8), 0u);
            auto qw = packed.qweight.contiguous();
            kernels::unpack_gemv(qw.data_ptr<int32_t>(), K, N, codes.data());
        }
        QVERIFY(at::equal(fromVector(codes, at::kByte, {N, K}), ref.codes));

        const auto dequantized = dequantizePacked(packed, v, K, N, g);
        QVERIFY2(at::equal(dequantized, packed.dequantized),
                 qPrintable(QString("%1 elements differ").arg(dequantized.ne(packed.dequantized).sum().item<int64_t>())));
        // And the quantization is a sane approximation of the weight.
        QVERIFY((packed.dequantized - w).abs().max().item<float>() < 0.05f);

        // No bias -> none written.
        QVERIFY(!packLinear(w, at::Tensor(), spec(4, g, true), v).bias.defined());
    }

    void packTestVectors()
    {
        // K = 32, g = 32, N = 8. Row n: w[n][k] = n + k for k < 8, then 15 and 0, rest 0, so
        // every group has min 0 and max 15: scale 1, zero 0, and the code equals the value.
        const int N = 8, K = 32, g = 32;
        auto w = at::zeros({N, K});
        for (int n = 0; n < N; ++n) {
            for (int k = 0; k < 8; ++k)
                w[n][k] = float(n + k);
            w[n][8] = 15.0f;
        }
        const auto gemm = packLinear(w, at::Tensor(), spec(4, g, true), "gemm");
        QVERIFY(at::equal(gemm.dequantized, w));
        QVERIFY(at::equal(gemm.scales.to(at::kFloat), at::ones({1, N})));
        QVERIFY(at::equal(gemm.qzeros, at::zeros({1, 1}, at::kInt)));
        // Column 0 holds codes 0..7 down the 8 output channels: AWQ_ORDER interleave.
        QCOMPARE(static_cast<uint32_t>(gemm.qweight[0][0].item<int32_t>()), 0x75316420u);
        // Column 1 holds 1..8 (nibble 7 = channel 7 = 8: negative as int32).
        QCOMPARE(static_cast<uint32_t>(gemm.qweight[1][0].item<int32_t>()), 0x86427531u);
        // Column 8 holds 15 everywhere.
        QCOMPARE(static_cast<uint32_t>(gemm.qweight[8][0].item<int32_t>()), 0xFFFFFFFFu);

        const auto gemv = packLinear(w, at::Tensor(), spec(4, g, true), "gemv");
        QVERIFY(at::equal(gemv.dequantized, w));
        // Row 0 holds codes 0..7 in columns 0..7: natural order.
        QCOMPARE(static_cast<uint32_t>(gemv.qweight[0][0].item<int32_t>()), 0x76543210u);
        QCOMPARE(static_cast<uint32_t>(gemv.qweight[1][0].item<int32_t>()), 0x87654321u);
        QCOMPARE(static_cast<uint32_t>(gemv.qweight[0][1].item<int32_t>()), 0x0000000Fu);
        QCOMPARE(shape(gemv.qzeros), (Shape{N, 4})); // g = 32: ZW = 4
        QVERIFY(at::equal(gemv.qzeros, at::zeros({N, 4}, at::kInt)));
        QCOMPARE(shape(gemv.scales), (Shape{N, 32}));
        EXACT(gemv.scales[5][0].item<float>(), 1.0f);
        EXACT(gemv.scales[5][1].item<float>(), 0.0f);

        // Zeros: a row shifted down by 3 (min -3, max 12) has zero point 3.
        auto shifted = w - 3.0;
        const auto z = packLinear(shifted, at::Tensor(), spec(4, g, true), "gemm");
        QCOMPARE(static_cast<uint32_t>(z.qzeros[0][0].item<int32_t>()), 0x33333333u);
        QCOMPARE(static_cast<uint32_t>(z.qweight[0][0].item<int32_t>()), 0x75316420u);
    }

    void packRejectsUnsupported()
    {
        const auto w = at::randn({16, 128});
        for (const auto &s : {spec(3, 64, true), spec(4, 64, false), spec(8, 64, true)}) {
            for (const char *v : {"gemm", "gemv"}) {
                const auto t = catchError([&] { packLinear(w, at::Tensor(), s, v); });
                QVERIFY(t.thrown);
                QCOMPARE(t.code, ErrorCode::InvalidArgument);
            }
        }
        auto unknown = catchError([&] { packLinear(w, at::Tensor(), spec(4, 64, true), "marlin"); });
        QVERIFY(unknown.thrown);
        QCOMPARE(unknown.code, ErrorCode::InvalidArgument);
        QVERIFY(contains(unknown.message, "marlin"));
        // GEMV has no kernel for g = 16 (docs/awq-format.md §2.2).
        auto g16 = catchError([&] { packLinear(w, at::Tensor(), spec(4, 16, true), "gemv"); });
        QVERIFY(g16.thrown);
        QCOMPARE(g16.code, ErrorCode::InvalidArgument);
        // GEMM needs N % 8 == 0.
        auto n12 = catchError([&] { packLinear(at::randn({12, 128}), at::Tensor(), spec(4, 64, true), "gemm"); });
        QVERIFY(n12.thrown);
        QCOMPARE(n12.code, ErrorCode::InvalidArgument);
    }

    // ---------------------------------------------------------------- scale search

    void statisticsByHand()
    {
        // weightMean: two weights, g = 2. Each group of |w| is divided by its max + 1e-6, then
        // the mean over all 3 output rows is taken per input channel.
        const auto w1 = at::tensor({1.0f, -2.0f, 3.0f, 0.0f, -4.0f, 2.0f, 0.5f, -1.0f}).reshape({2, 4});
        const auto w2 = at::tensor({2.0f, 2.0f, -1.0f, 4.0f}).reshape({1, 4});
        const auto wm = weightMean({w1, w2}, 2);
        QCOMPARE(wm.scalar_type(), at::kFloat);
        QCOMPARE(shape(wm), (Shape{4}));
        const double e = 1e-6;
        const double expected[4] = {
            (1 / (2 + e) + 4 / (4 + e) + 2 / (2 + e)) / 3,
            (2 / (2 + e) + 2 / (4 + e) + 2 / (2 + e)) / 3,
            (3 / (3 + e) + 0.5 / (1 + e) + 1 / (4 + e)) / 3,
            (0 / (3 + e) + 1 / (1 + e) + 4 / (4 + e)) / 3,
        };
        for (int i = 0; i < 4; ++i)
            QVERIFY2(std::abs(wm[i].item<double>() - expected[i]) < 1e-6,
                     qPrintable(QString("w_mean[%1] = %2, expected %3").arg(i).arg(wm[i].item<double>()).arg(expected[i])));

        // activationMean: mean |x| over every leading dim.
        const auto x = at::tensor({1.0f, -2.0f, 0.0f, 3.0f, -1.5f, 0.5f, -4.0f, 1.0f, 2.0f, 0.0f, -6.0f, 8.0f})
                           .reshape({2, 2, 3});
        const auto xm = activationMean(x);
        QCOMPARE(shape(xm), (Shape{3}));
        QVERIFY(std::abs(xm[0].item<double>() - (1 + 3 + 4 + 0) / 4.0) < 1e-7);
        QVERIFY(std::abs(xm[1].item<double>() - (2 + 1.5 + 1 + 6) / 4.0) < 1e-7);
        QVERIFY(std::abs(xm[2].item<double>() - (0 + 0.5 + 2 + 8) / 4.0) < 1e-7);
        // More rows than one chunk (4096): same as a float64 mean.
        at::manual_seed(3);
        const auto big = at::randn({3, 3000, 5});
        const auto bigMean = activationMean(big);
        const auto refMean = big.to(at::kDouble).abs().reshape({-1, 5}).mean(0).to(at::kFloat);
        QVERIFY(at::allclose(bigMean, refMean, 1e-6, 0));

        // outputMse: mean of squared differences.
        const auto a = at::tensor({1.0f, 2.0f, 3.0f, 4.0f}).reshape({2, 2});
        const auto b = at::tensor({1.0f, 0.0f, 4.0f, 1.0f}).reshape({2, 2});
        EXACT(outputMse(a, b), (0 + 4 + 1 + 9) / 4.0);
    }

    void scaleSearchFindsSalientChannel_data()
    {
        QTest::addColumn<int>("bits");
        QTest::newRow("4-bit") << 4;
        QTest::newRow("3-bit") << 3;
    }

    void scaleSearchFindsSalientChannel()
    {
        QFETCH(int, bits);
        at::manual_seed(1000 + bits);
        const int64_t salient = 17;
        auto x = at::randn({512, 256});
        x.select(1, salient).mul_(20.0);
        const auto w = at::randn({128, 256}) * 0.05;
        const auto wCopy = w.clone();
        const BlockFn block = [&x](const std::vector<at::Tensor> &weights) { return at::linear(x, weights[0]); };
        const auto reference = block({w});
        const auto xMean = activationMean(x);

        ScaleSearchOptions options;
        options.quantizer = spec(bits, 128, true);
        const auto result = searchScale({w}, xMean, reference, block, options);

        QVERIFY(at::equal(w, wCopy)); // the weights are left alone
        QCOMPARE(result.gridLosses.size(), size_t(20));
        QCOMPARE(shape(result.scales), (Shape{256}));
        QCOMPARE(result.scales.scalar_type(), at::kFloat);
        QVERIFY(result.bestRatio >= 0.0 && result.bestRatio <= 0.95);
        const auto best = std::min_element(result.gridLosses.begin(), result.gridLosses.end());
        EXACT(result.bestLoss, *best);
        // The first minimum wins and its ratio is reported.
        EXACT(result.bestRatio, double(best - result.gridLosses.begin()) / 20.0);
        QVERIFY2(result.bestLoss < result.rtnLoss * 0.8,
                 qPrintable(QString("best %1 vs rtn %2").arg(result.bestLoss).arg(result.rtnLoss)));
        QCOMPARE(result.scales.argmax().item<int64_t>(), salient);
        QVERIFY(result.bestRatio > 0); // activation awareness is what helps here

        // The reported losses are reproducible from their definitions.
        EXACT(result.rtnLoss, outputMse(reference, block({fakeQuantize(w, options.quantizer)})));
        EXACT(result.bestLoss,
                 outputMse(reference, block({fakeQuantize(w * result.scales, options.quantizer).div_(result.scales)})));

        // The scales follow the formula: s = (x^r / (w^(1-r) + 1e-4)).clamp(1e-4), normalised
        // by sqrt(max * min).
        const double r = result.bestRatio;
        auto s = (xMean.to(at::kDouble).pow(r) / (weightMean({w}, 128).to(at::kDouble).pow(1 - r) + 1e-4)).clamp_min(1e-4);
        s = s / std::sqrt(s.max().item<double>() * s.min().item<double>());
        QVERIFY(at::allclose(result.scales.to(at::kDouble), s, 1e-5, 0));
        // Normalised: max * min == 1.
        QVERIFY(std::abs(result.scales.max().item<double>() * result.scales.min().item<double>() - 1.0) < 1e-4);
    }

    void scaleSearchOptions()
    {
        at::manual_seed(9);
        auto x = at::randn({64, 64});
        x.select(1, 3).mul_(10.0);
        const auto w1 = at::randn({32, 64}), w2 = at::randn({16, 64});
        // A group of two weights (like q/k/v): the block concatenates both outputs.
        const BlockFn block = [&x](const std::vector<at::Tensor> &ws) {
            return at::cat({at::linear(x, ws[0]), at::linear(x, ws[1])}, 1);
        };
        const auto reference = block({w1, w2});
        ScaleSearchOptions options;
        options.quantizer = spec(4, 32, true);
        options.nGrid = 5;
        options.duoScaling = false;
        const auto result = searchScale({w1, w2}, activationMean(x), reference, block, options);
        QCOMPARE(result.gridLosses.size(), size_t(5));
        QVERIFY(result.bestRatio >= 0 && result.bestRatio <= 0.8);
        // Without duo scaling s = x_mean^r, normalised.
        auto s = activationMean(x).to(at::kDouble).pow(result.bestRatio).clamp_min(1e-4);
        s = s / std::sqrt(s.max().item<double>() * s.min().item<double>());
        QVERIFY(at::allclose(result.scales.to(at::kDouble), s, 1e-5, 0));
        // Ratio 0 without duo scaling is all ones: the plain RTN loss.
        EXACT(result.gridLosses[0], result.rtnLoss);

        // Cancel before the grid.
        CancelToken cancel;
        cancel.cancel();
        const auto cancelled = catchError([&] { searchScale({w1, w2}, activationMean(x), reference, block, options, cancel); });
        QVERIFY(cancelled.thrown);
        QCOMPARE(cancelled.code, ErrorCode::Cancelled);

        // A block whose output is NaN everywhere: no finite loss.
        const BlockFn nanBlock = [&](const std::vector<at::Tensor> &ws) { return block(ws) * std::nanf(""); };
        const auto nan = catchError([&] { searchScale({w1, w2}, activationMean(x), reference, nanBlock, options); });
        QVERIFY(nan.thrown);
        QCOMPARE(nan.code, ErrorCode::Format);
    }

    // s = 1 is kept when no grid point beats plain RTN; AutoAWQ's exact grid does not
    // consider it (identityCandidate = false) and may return scales worse than none.
    void scaleSearchIdentityCandidate()
    {
        int identityWins = 0;
        for (int seed = 0; seed < 10; ++seed) {
            at::manual_seed(100 + seed);
            // Nothing salient: scaling can only trade noise for noise.
            const auto x = at::randn({256, 128});
            const auto w = at::randn({64, 128});
            const BlockFn block = [&x](const std::vector<at::Tensor> &ws) { return at::linear(x, ws[0]); };
            const auto reference = block({w});
            ScaleSearchOptions options;
            options.quantizer = spec(3, 64, true);
            const auto with = searchScale({w}, activationMean(x), reference, block, options);
            options.identityCandidate = false;
            const auto autoawq = searchScale({w}, activationMean(x), reference, block, options);
            const double gridBest = *std::min_element(autoawq.gridLosses.begin(), autoawq.gridLosses.end());
            EXACT(autoawq.bestLoss, gridBest);
            EXACT(with.bestLoss, std::min(gridBest, with.rtnLoss));
            if (with.rtnLoss <= gridBest) {
                ++identityWins;
                QCOMPARE(with.bestRatio, -1.0);
                QVERIFY(at::equal(with.scales, at::ones({128})));
                QVERIFY(autoawq.bestLoss >= with.bestLoss);
            } else {
                QVERIFY(at::equal(with.scales, autoawq.scales));
            }
        }
        qInfo("identity won %d of 10 random groups", identityWins);

        // A tie (here: a block whose output ignores the weights) keeps s = 1.
        at::manual_seed(7);
        const auto x = at::randn({32, 64}), w = at::randn({16, 64});
        const auto fixed = at::randn({32, 16});
        const BlockFn constant = [&fixed](const std::vector<at::Tensor> &) { return fixed; };
        ScaleSearchOptions options;
        options.quantizer = spec(4, 32, true);
        const auto tie = searchScale({w}, activationMean(x), fixed, constant, options);
        QCOMPARE(tie.bestRatio, -1.0);
        QVERIFY(at::equal(tie.scales, at::ones({64})));
        options.identityCandidate = false;
        QCOMPARE(searchScale({w}, activationMean(x), fixed, constant, options).bestRatio, 0.0);
    }

    // ---------------------------------------------------------------- clip search

    void clipSearchClipsUselessOutliers()
    {
        at::manual_seed(31);
        const int64_t N = 64, K = 128, g = 64;
        auto x = at::randn({600, K});
        const int64_t deadChannels[4] = {3, 5, 9, 20}; // in group 0; x is exactly 0 there
        for (int64_t c : deadChannels)
            x.select(1, c).zero_();
        auto w = at::randn({N, K});
        for (int64_t n = 0; n < N; ++n) {
            const int64_t c = deadChannels[n % 4];
            const float groupMax = w[n].slice(0, 0, g).abs().max().item<float>();
            w[n][c] = (n % 2 ? -30.0f : 30.0f) * groupMax;
        }
        ClipSearchOptions options;
        options.quantizer = spec(4, g, true);
        const auto thr = searchClip(w, x, options);
        QCOMPARE(shape(thr), (Shape{N, K / g}));
        QCOMPARE(thr.scalar_type(), at::kFloat);

        const auto maxAbs = std::get<0>(w.reshape({N, K / g, g}).abs().max(-1)); // [N, G]
        int strongClips = 0;
        for (int64_t n = 0; n < N; ++n) {
            const float t0 = thr[n][0].item<float>();
            QVERIFY2(t0 < maxAbs[n][0].item<float>(), qPrintable(QString("row %1 not clipped").arg(n)));
            if (t0 <= 0.7f * maxAbs[n][0].item<float>())
                ++strongClips;
            for (int64_t grp = 0; grp < K / g; ++grp)
                QVERIFY2(isGridValue(maxAbs[n][grp], thr[n][grp].item<float>()),
                         qPrintable(QString("threshold (%1, %2) is not on the grid").arg(n).arg(grp)));
        }
        // The outlier costs nothing to clip, so most rows shrink a lot.
        QVERIFY2(strongClips >= N / 2, qPrintable(QString("%1 rows clipped to <= 0.7").arg(strongClips)));

        // The clipped weight quantizes to a better output.
        auto clipped = w.clone();
        applyClip(clipped, thr);
        const auto y = at::linear(x, w);
        const double errClip = (at::linear(x, fakeQuantize(clipped, options.quantizer)) - y).pow(2).sum().item<double>();
        const double errNone = (at::linear(x, fakeQuantize(w, options.quantizer)) - y).pow(2).sum().item<double>();
        QVERIFY2(errClip < errNone * 0.8, qPrintable(QString("clip %1 vs none %2").arg(errClip).arg(errNone)));
    }

    void clipSearchKeepsUnclippedOnTies()
    {
        // With x == 0 every shrink gives the same (zero) error: strictly smaller wins, so
        // the unclipped max|w| is kept everywhere.
        at::manual_seed(4);
        const int64_t N = 64, K = 64, g = 32;
        const auto w = at::randn({N, K});
        ClipSearchOptions options;
        options.quantizer = spec(4, g, true);
        const auto thr = searchClip(w, at::zeros({100, K}), options);
        QVERIFY(at::equal(thr, std::get<0>(w.reshape({N, K / g, g}).abs().max(-1))));
    }

    void applyClipClampsExactly()
    {
        auto w = at::tensor({0.3f, -2.5f, 1.7f, -0.2f, 4.0f, -4.0f, 0.1f, 2.9f, -0.6f, 0.45f, 0.5f, -0.55f, 3.0f, 1.0f,
                             -3.5f, 0.0f})
                     .reshape({2, 8});
        const auto original = w.clone();
        const auto maxVal = at::tensor({1.5f, 3.0f, 0.5f, 10.0f}).reshape({2, 2});
        applyClip(w, maxVal);
        const float expected[16] = {0.3f, -1.5f, 1.5f, -0.2f, 3.0f, -3.0f, 0.1f, 2.9f,
                                    -0.5f, 0.45f, 0.5f, -0.5f, 3.0f, 1.0f, -3.5f, 0.0f};
        for (int i = 0; i < 16; ++i)
            EXACT(w.view({-1})[i].item<float>(), expected[i]);
        // Values inside the range are untouched, bit for bit.
        const auto inside = original.abs() <= perColumn(maxVal, 4);
        QVERIFY(at::equal(w.masked_select(inside), original.masked_select(inside)));
    }
};

QTEST_APPLESS_MAIN(TestQuantMath)
#include "tst_quant_math.moc"
