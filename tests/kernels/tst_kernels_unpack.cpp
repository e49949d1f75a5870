// Packing, unpacking and dequantization of the AutoAWQ GEMM / GEMV formats (docs/awq-format.md §2.1, §2.2),
// and the portable fp16 conversion they rely on.
#include <QtTest>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "awq/kernels/awq_format.h"
#include "awq/kernels/awq_unpack.h"
#include "awq/kernels/half.h"

using namespace awq::kernels;

namespace {

std::vector<uint8_t> random_codes(std::size_t count, std::mt19937& rng) {
    std::uniform_int_distribution<int> d(0, 15);
    std::vector<uint8_t> v(count);
    for (auto& c : v) c = static_cast<uint8_t>(d(rng));
    return v;
}

// Random positive fp16 scales, some with full 11-bit mantissas so that (q - z) * s must round.
std::vector<uint16_t> random_scales(std::size_t count, std::mt19937& rng) {
    std::uniform_real_distribution<float> d(1e-4f, 0.08f);
    std::vector<uint16_t> v(count);
    for (auto& s : v) s = float_to_half(d(rng));
    return v;
}

uint32_t nib(int32_t word, int i) { return (static_cast<uint32_t>(word) >> (4 * i)) & 0xFu; }

// The reference formula, written from the spec independently of the packers:
// W[n][k] = fp16((q[n][k] - z[n][k/g]) * s), computed in double (exact), rounded once.
float naive(int q, int z, uint16_t s) {
    const double prod = static_cast<double>(q - z) * static_cast<double>(half_to_float(s));
    return half_to_float(float_to_half(static_cast<float>(prod)));
}

bool bits_equal(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

float bits_to_float(uint32_t b) {
    float f;
    std::memcpy(&f, &b, sizeof f);
    return f;
}

}  // namespace

class TestKernelsUnpack : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void orderTables() {
        for (int i = 0; i < 8; ++i) {
            QCOMPARE(AWQ_REVERSE_ORDER[AWQ_ORDER[i]], i);
            QCOMPARE(AWQ_ORDER[AWQ_REVERSE_ORDER[i]], i);
            QCOMPARE(gemm_nibble_of_channel(gemm_channel_of_nibble(i)), i);
        }
    }

    void gemmTestVector() {
        // Eight consecutive output channels holding codes 0..7 (K = 1) pack to 0x75316420.
        const uint8_t codes[8] = {0, 1, 2, 3, 4, 5, 6, 7};
        int32_t qw = 0;
        pack_gemm(codes, 1, 8, &qw);
        QCOMPARE(static_cast<uint32_t>(qw), 0x75316420u);
        int32_t qz = 0;
        pack_gemm_zeros(codes, 1, 8, &qz);  // zeros use the identical scheme
        QCOMPARE(static_cast<uint32_t>(qz), 0x75316420u);
        uint8_t back[8] = {};
        unpack_gemm(&qw, 1, 8, back);
        for (int n = 0; n < 8; ++n) QCOMPARE(int(back[n]), n);

        // Codes 8..15: nibble 7 >= 8 makes the int32 negative; unpacking must not sign-extend.
        const uint8_t high[8] = {8, 9, 10, 11, 12, 13, 14, 15};
        pack_gemm(high, 1, 8, &qw);
        QCOMPARE(static_cast<uint32_t>(qw), 0xFDB9ECA8u);
        QVERIFY(qw < 0);
        unpack_gemm(&qw, 1, 8, back);
        for (int n = 0; n < 8; ++n) QCOMPARE(int(back[n]), n + 8);
    }

    void gemvTestVector() {
        // Codes 0..7 over eight input channels (N = 1) pack to 0x76543210 (natural order).
        const uint8_t codes[8] = {0, 1, 2, 3, 4, 5, 6, 7};
        int32_t qw = 0;
        pack_gemv(codes, 8, 1, &qw);
        QCOMPARE(static_cast<uint32_t>(qw), 0x76543210u);
        const uint8_t high[8] = {15, 15, 15, 15, 15, 15, 15, 15};
        pack_gemv(high, 8, 1, &qw);
        QCOMPARE(qw, int32_t(-1));
        uint8_t back[8] = {};
        unpack_gemv(&qw, 8, 1, back);
        for (int k = 0; k < 8; ++k) QCOMPARE(int(back[k]), 15);
    }

    void gemvZerosWidth_data() {
        QTest::addColumn<int>("K");
        QTest::addColumn<int>("g");
        QTest::addColumn<int>("zw");
        QTest::newRow("4096/128") << 4096 << 128 << 4;
        QTest::newRow("11008/128") << 11008 << 128 << 11;
        QTest::newRow("14336/128") << 14336 << 128 << 14;
        QTest::newRow("4096/64") << 4096 << 64 << 8;
        QTest::newRow("11008/64") << 11008 << 64 << 22;
        QTest::newRow("4096/32") << 4096 << 32 << 16;
        QTest::newRow("128/128") << 128 << 128 << 1;
        QTest::newRow("256/32") << 256 << 32 << 4;  // w0 = 1, rounded up to the multiplier 4
        QTest::newRow("4096/4096") << 4096 << 4096 << 1;
    }
    void gemvZerosWidth() {
        QFETCH(int, K);
        QFETCH(int, g);
        QFETCH(int, zw);
        QCOMPARE(awq::kernels::gemvZerosWidth(K, g), zw);
    }
    void gemvZerosWidthRejects() {
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, awq::kernels::gemvZerosWidth(4096, 16));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, awq::kernels::gemvZerosWidth(4096, 96));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, awq::kernels::gemvZerosWidth(4096, 0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, awq::kernels::gemvZerosWidth(4096, -1));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, awq::kernels::gemvZerosWidth(4000, 128));
    }

    void roundTrip_data() {
        QTest::addColumn<int>("K");
        QTest::addColumn<int>("N");
        QTest::addColumn<int>("g");
        for (int g : {32, 64, 128}) {
            QTest::addRow("K128 N64 g%d", g) << 128 << 64 << g;
            QTest::addRow("K256 N8 g%d", g) << 256 << 8 << g;
            QTest::addRow("K4096 N64 g%d", g) << 4096 << 64 << g;
            QTest::addRow("K1152 N24 g%d", g) << 1152 << 24 << g;  // zeros rows need padding
        }
        QTest::addRow("K11008 N16 g128") << 11008 << 16 << 128;  // ZW 11, 86 groups
        QTest::addRow("K512 N40 g512") << 512 << 40 << 512;      // per-channel
    }
    void roundTrip() {
        QFETCH(int, K);
        QFETCH(int, N);
        QFETCH(int, g);
        std::mt19937 rng(1234u + unsigned(K) * 7u + unsigned(N) * 13u + unsigned(g));
        const int G = K / g;
        const auto codes = random_codes(std::size_t(N) * K, rng);
        const auto zeros = random_codes(std::size_t(N) * G, rng);

        // GEMM: layout checked against the spec's closed form, then the inverse.
        std::vector<int32_t> qw(std::size_t(K) * N / 8), qz(std::size_t(G) * N / 8);
        pack_gemm(codes.data(), K, N, qw.data());
        pack_gemm_zeros(zeros.data(), G, N, qz.data());
        for (int k = 0; k < K; ++k)
            for (int j = 0; j < N / 8; ++j)
                for (int i = 0; i < 8; ++i)
                    QCOMPARE(nib(qw[std::size_t(k) * (N / 8) + j], i),
                             uint32_t(codes[std::size_t(8 * j + AWQ_ORDER[i]) * K + k]));
        for (int r = 0; r < G; ++r)
            for (int j = 0; j < N / 8; ++j)
                for (int i = 0; i < 8; ++i)
                    QCOMPARE(nib(qz[std::size_t(r) * (N / 8) + j], i),
                             uint32_t(zeros[std::size_t(8 * j + AWQ_ORDER[i]) * G + r]));
        std::vector<uint8_t> back(codes.size()), zback(zeros.size());
        unpack_gemm(qw.data(), K, N, back.data());
        unpack_gemm_zeros(qz.data(), G, N, zback.data());
        QVERIFY(back == codes);
        QVERIFY(zback == zeros);

        // GEMV: natural order along K, zero rows padded to ZW words with 0.
        const int ZW = awq::kernels::gemvZerosWidth(K, g);
        std::vector<int32_t> vw(std::size_t(N) * K / 8), vz(std::size_t(N) * ZW, 0x5A5A5A5A);
        pack_gemv(codes.data(), K, N, vw.data());
        pack_gemv_zeros(zeros.data(), K, N, g, vz.data());
        for (int n = 0; n < N; ++n) {
            for (int k = 0; k < K; ++k)
                QCOMPARE(nib(vw[std::size_t(n) * (K / 8) + k / 8], k % 8), uint32_t(codes[std::size_t(n) * K + k]));
            for (int c = 0; c < ZW * 8; ++c) {
                const uint32_t expect = c < G ? zeros[std::size_t(n) * G + c] : 0u;
                QCOMPARE(nib(vz[std::size_t(n) * ZW + c / 8], c % 8), expect);
            }
        }
        std::fill(back.begin(), back.end(), 0xEE);
        std::fill(zback.begin(), zback.end(), 0xEE);
        unpack_gemv(vw.data(), K, N, back.data());
        unpack_gemv_zeros(vz.data(), K, N, g, zback.data());
        QVERIFY(back == codes);
        QVERIFY(zback == zeros);
    }

    void dequantize_data() { roundTrip_data(); }
    void dequantize() {
        QFETCH(int, K);
        QFETCH(int, N);
        QFETCH(int, g);
        std::mt19937 rng(99u + unsigned(K) + unsigned(N) * 31u + unsigned(g) * 17u);
        const int G = K / g;
        const int ZW = awq::kernels::gemvZerosWidth(K, g);
        const auto codes = random_codes(std::size_t(N) * K, rng);
        const auto zeros = random_codes(std::size_t(N) * G, rng);
        const auto s_gemm = random_scales(std::size_t(G) * N, rng);  // [G][N]
        std::vector<uint16_t> s_gemv(std::size_t(N) * ZW * 8, 0);    // [N][ZW*8], padding 0
        for (int n = 0; n < N; ++n)
            for (int r = 0; r < G; ++r) s_gemv[std::size_t(n) * ZW * 8 + r] = s_gemm[std::size_t(r) * N + n];

        std::vector<float> expect(std::size_t(N) * K);
        for (int n = 0; n < N; ++n)
            for (int k = 0; k < K; ++k)
                expect[std::size_t(n) * K + k] = naive(codes[std::size_t(n) * K + k], zeros[std::size_t(n) * G + k / g],
                                                       s_gemm[std::size_t(k / g) * N + n]);

        std::vector<int32_t> qw(std::size_t(K) * N / 8), qz(std::size_t(G) * N / 8);
        pack_gemm(codes.data(), K, N, qw.data());
        pack_gemm_zeros(zeros.data(), G, N, qz.data());
        std::vector<float> out_gemm(expect.size(), -1.0f);
        dequantize_gemm(qw.data(), qz.data(), s_gemm.data(), K, N, g, out_gemm.data());

        std::vector<int32_t> vw(std::size_t(N) * K / 8), vz(std::size_t(N) * ZW);
        pack_gemv(codes.data(), K, N, vw.data());
        pack_gemv_zeros(zeros.data(), K, N, g, vz.data());
        std::vector<float> out_gemv(expect.size(), -1.0f);
        dequantize_gemv(vw.data(), vz.data(), s_gemv.data(), K, N, g, out_gemv.data());

        for (std::size_t i = 0; i < expect.size(); ++i) {
            if (out_gemm[i] != expect[i] || out_gemv[i] != expect[i])
                QFAIL(qPrintable(QStringLiteral("mismatch at n=%1 k=%2: naive %3 gemm %4 gemv %5")
                                     .arg(i / K).arg(i % K).arg(double(expect[i]), 0, 'g', 9)
                                     .arg(double(out_gemm[i]), 0, 'g', 9).arg(double(out_gemv[i]), 0, 'g', 9)));
        }
        // The same codes through both packings agree bit for bit.
        QVERIFY(bits_equal(out_gemm, out_gemv));
    }

    void dequantizeRoundsToHalf() {
        // s = 0x3FFF = 1.9990234375, q - z = 3: the exact product 5.9970703125 is not an fp16;
        // AutoAWQ's fp16 result (and ours) is 5.99609375. Also q < z gives a negative weight.
        uint8_t codes[8] = {3, 0, 15, 0, 0, 0, 0, 0};
        uint8_t zeros[8] = {0, 0, 0, 8, 8, 8, 8, 8};
        int32_t qw = 0, qz = 0;
        pack_gemm(codes, 1, 8, &qw);
        pack_gemm_zeros(zeros, 1, 8, &qz);
        uint16_t s[8];
        for (auto& v : s) v = 0x3FFF;
        s[2] = 0x3C00;  // 1.0
        float out[8];
        dequantize_gemm(&qw, &qz, s, 1, 8, 1, out);
        QVERIFY(out[0] == 5.99609375f);  // exact comparisons: QCOMPARE on floats is fuzzy
        QVERIFY(out[1] == 0.0f);
        QVERIFY(out[2] == 15.0f);
        QVERIFY(out[3] == -15.9921875f);  // -8 * 1.9990234375 is an fp16 (spacing 2^-7 in [8,16))
        QVERIFY(out[4] == round_to_half(-8.0f * 1.9990234375f));
    }

    void invalidArguments() {
        std::vector<uint8_t> codes(4096, 1);
        std::vector<int32_t> words(4096, 0);
        std::vector<uint16_t> scales(4096, 0x3C00);
        std::vector<float> out(4096);
        using E = std::invalid_argument;
        // GEMM: N % 8, non-positive sizes, K % group, codes > 15, null pointers.
        QVERIFY_THROWS_EXCEPTION(E, pack_gemm(codes.data(), 16, 12, words.data()));
        QVERIFY_THROWS_EXCEPTION(E, pack_gemm(codes.data(), 0, 8, words.data()));
        QVERIFY_THROWS_EXCEPTION(E, pack_gemm(codes.data(), 16, -8, words.data()));
        QVERIFY_THROWS_EXCEPTION(E, pack_gemm(nullptr, 16, 8, words.data()));
        QVERIFY_THROWS_EXCEPTION(E, unpack_gemm(words.data(), 16, 4, codes.data()));
        QVERIFY_THROWS_EXCEPTION(E, pack_gemm_zeros(codes.data(), 2, 9, words.data()));
        codes[77] = 16;
        QVERIFY_THROWS_EXCEPTION(E, pack_gemm(codes.data(), 16, 8, words.data()));
        QVERIFY_THROWS_EXCEPTION(E, pack_gemv(codes.data(), 16, 8, words.data()));
        QVERIFY_THROWS_EXCEPTION(E, pack_gemm_zeros(codes.data(), 16, 8, words.data()));
        codes[77] = 1;
        QVERIFY_THROWS_EXCEPTION(E, dequantize_gemm(words.data(), words.data(), scales.data(), 100, 8, 32,
                                                    out.data()));  // K % group
        QVERIFY_THROWS_EXCEPTION(E, dequantize_gemm(words.data(), words.data(), scales.data(), 128, 12, 32,
                                                    out.data()));  // N % 8
        QVERIFY_THROWS_EXCEPTION(E, dequantize_gemm(words.data(), words.data(), scales.data(), 128, 8, 0,
                                                    out.data()));  // group 0
        QVERIFY_THROWS_EXCEPTION(E, dequantize_gemm(words.data(), words.data(), nullptr, 128, 8, 32, out.data()));
        // GEMV: K % 8, unsupported group size, K % group.
        QVERIFY_THROWS_EXCEPTION(E, pack_gemv(codes.data(), 100, 3, words.data()));
        QVERIFY_THROWS_EXCEPTION(E, unpack_gemv(words.data(), 100, 3, codes.data()));
        QVERIFY_THROWS_EXCEPTION(E, pack_gemv_zeros(codes.data(), 256, 4, 16, words.data()));
        QVERIFY_THROWS_EXCEPTION(E, pack_gemv_zeros(codes.data(), 200, 4, 128, words.data()));
        QVERIFY_THROWS_EXCEPTION(E, dequantize_gemv(words.data(), words.data(), scales.data(), 256, 4, 16,
                                                    out.data()));
        QVERIFY_THROWS_EXCEPTION(E, dequantize_gemv(words.data(), words.data(), scales.data(), 260, 4, 130,
                                                    out.data()));
        // A clear message names the function and the offending value.
        try {
            pack_gemm(codes.data(), 16, 12, words.data());
            QFAIL("no exception");
        } catch (const E& e) {
            const QString msg = QString::fromUtf8(e.what());
            QVERIFY2(msg.contains(QLatin1String("pack_gemm")) && msg.contains(QLatin1String("N=12")), e.what());
        }
        // Odd shapes that are valid: GEMV with N not a multiple of 8, GEMM with K not a multiple of 8.
        pack_gemv(codes.data(), 64, 3, words.data());
        pack_gemm(codes.data(), 5, 8, words.data());
    }

    void halfConversion_data() {
        QTest::addColumn<float>("value");
        QTest::addColumn<int>("bits");
        const float inf = std::numeric_limits<float>::infinity();
        QTest::newRow("0") << 0.0f << 0x0000;
        QTest::newRow("-0") << -0.0f << 0x8000;
        QTest::newRow("1") << 1.0f << 0x3C00;
        QTest::newRow("-2") << -2.0f << 0xC000;
        QTest::newRow("65504 (max)") << 65504.0f << 0x7BFF;
        QTest::newRow("65519 -> max") << 65519.0f << 0x7BFF;
        QTest::newRow("65520 -> inf (tie to even)") << 65520.0f << 0x7C00;
        QTest::newRow("1e6 -> inf") << 1e6f << 0x7C00;
        QTest::newRow("-1e6 -> -inf") << -1e6f << 0xFC00;
        QTest::newRow("inf") << inf << 0x7C00;
        QTest::newRow("-inf") << -inf << 0xFC00;
        QTest::newRow("2^-24 (min subnormal)") << std::ldexp(1.0f, -24) << 0x0001;
        QTest::newRow("1023*2^-24 (max subnormal)") << std::ldexp(1023.0f, -24) << 0x03FF;
        QTest::newRow("2^-14 (min normal)") << std::ldexp(1.0f, -14) << 0x0400;
        QTest::newRow("2^-25 tie -> 0") << std::ldexp(1.0f, -25) << 0x0000;
        QTest::newRow("-2^-25 tie -> -0") << -std::ldexp(1.0f, -25) << 0x8000;
        QTest::newRow("just above 2^-25") << bits_to_float(0x33000001u) << 0x0001;
        QTest::newRow("3*2^-25 tie -> 2") << std::ldexp(3.0f, -25) << 0x0002;
        QTest::newRow("5*2^-25 tie -> 2") << std::ldexp(5.0f, -25) << 0x0002;
        QTest::newRow("1023.5*2^-24 -> min normal") << std::ldexp(2047.0f, -25) << 0x0400;
        QTest::newRow("1+2^-11 tie -> 1") << 1.0f + std::ldexp(1.0f, -11) << 0x3C00;
        QTest::newRow("1+3*2^-11 tie -> even") << 1.0f + std::ldexp(3.0f, -11) << 0x3C02;
        QTest::newRow("1+2^-11+tiny -> up") << bits_to_float(0x3F801001u) << 0x3C01;
        QTest::newRow("2-2^-12 carries into the exponent") << 2.0f - std::ldexp(1.0f, -12) << 0x4000;
        QTest::newRow("0.1") << 0.1f << 0x2E66;
        QTest::newRow("1/3") << 1.0f / 3.0f << 0x3555;
        QTest::newRow("1e-8 -> 0") << 1e-8f << 0x0000;
    }
    void halfConversion() {
        QFETCH(float, value);
        QFETCH(int, bits);
        QCOMPARE(int(float_to_half(value)), bits);
    }

    void halfExhaustive() {
        // Every fp16 value: half_to_float is exact (checked against ldexp) and float_to_half inverts it.
        for (uint32_t h = 0; h < 0x10000u; ++h) {
            const uint16_t hb = static_cast<uint16_t>(h);
            const float f = half_to_float(hb);
            const int exp = (h >> 10) & 0x1F;
            const int mant = h & 0x3FF;
            const float sign = (h & 0x8000u) ? -1.0f : 1.0f;
            if (exp == 31) {
                if (mant == 0) {
                    QVERIFY(std::isinf(f) && std::signbit(f) == bool(h & 0x8000u));
                    QCOMPARE(float_to_half(f), hb);
                } else {
                    QVERIFY(std::isnan(f));
                    const uint16_t back = float_to_half(f);
                    QVERIFY((back & 0x7C00u) == 0x7C00u && (back & 0x3FFu) != 0);  // still NaN
                }
                continue;
            }
            const float expect = exp == 0 ? sign * std::ldexp(float(mant), -24)
                                          : sign * std::ldexp(float(1024 + mant), exp - 25);
            if (f != expect || std::signbit(f) != bool(h & 0x8000u))
                QFAIL(qPrintable(QStringLiteral("half_to_float(0x%1) wrong").arg(h, 4, 16, QLatin1Char('0'))));
            if (float_to_half(f) != hb)
                QFAIL(qPrintable(QStringLiteral("float_to_half round trip of 0x%1 wrong").arg(h, 4, 16, QLatin1Char('0'))));
        }
        // Float NaN -> half NaN.
        const uint16_t hn = float_to_half(std::numeric_limits<float>::quiet_NaN());
        QVERIFY((hn & 0x7C00u) == 0x7C00u && (hn & 0x3FFu) != 0);
    }

    void halfMidpoints() {
        // Every midpoint between consecutive positive finite fp16 values rounds to the even one,
        // and one float ulp either side rounds to the nearer one.
        for (uint32_t h = 0; h < 0x7BFFu; ++h) {
            const double lo = half_to_float(uint16_t(h)), hi = half_to_float(uint16_t(h + 1));
            const float mid = static_cast<float>((lo + hi) / 2);  // exact in float
            const uint16_t even = (h & 1u) ? uint16_t(h + 1) : uint16_t(h);
            if (float_to_half(mid) != even ||
                float_to_half(std::nextafter(mid, 0.0f)) != uint16_t(h) ||
                float_to_half(std::nextafter(mid, 1e9f)) != uint16_t(h + 1))
                QFAIL(qPrintable(QStringLiteral("rounding near midpoint above 0x%1").arg(h, 4, 16, QLatin1Char('0'))));
        }
    }
};

QTEST_APPLESS_MAIN(TestKernelsUnpack)
#include "tst_kernels_unpack.moc"
