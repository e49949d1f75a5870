#pragma once
// Shared by the AVX-512 translation units (w4_avx512.cpp, w4_avx512_vnni.cpp), which are
// compiled with AVX-512 flags: the weight scale and zero point of each lane of a 16-word
// chunk of a GEMV-packed row. Lane l is word c + l, i.e. inputs 8(c + l) .. 8(c + l) + 7.
// Internal linkage (anonymous namespace): each unit gets its own copy, no ODR mixing of
// code built with different flags.

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace awq::kernels::detail {
namespace {

class ChunkGroups {
public:
    // group: 32, 64 or a multiple of 128 (callers check).
    explicit ChunkGroups(int group)
        : m_group(group), m_whole(group % 128 == 0),
          m_laneGroup(_mm512_srli_epi32(
              _mm512_slli_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), 3),
              group == 32 ? 5 : 6)),
          m_scaleMask(static_cast<__mmask16>((1u << (128 / std::max(group, 32))) - 1u)) {}

    // s (fp16 scale widened) and z (zero point as float) per lane for the chunk at word c
    // (a multiple of 16) of the row whose scales and zeros are given.
    void load(const uint16_t* scalesRow, const uint32_t* zerosRow, int c, __m512& s, __m512& z) const {
        const int gi0 = c * 8 / m_group;
        if (m_whole) {  // the whole chunk lies in one group
            s = _mm512_set1_ps(_cvtsh_ss(scalesRow[gi0]));
            z = _mm512_set1_ps(static_cast<float>((zerosRow[gi0 >> 3] >> (4 * (gi0 & 7))) & 0xFu));
            return;
        }
        // g = 32 or 64: 4 or 2 groups per chunk, lane l in group gi0 + 8l/g.
        s = _mm512_permutexvar_ps(m_laneGroup, _mm512_cvtph_ps(_mm256_castsi128_si256(
                                                   _mm_maskz_loadu_epi16(m_scaleMask, scalesRow + gi0))));
        const __m512i shifts = _mm512_slli_epi32(_mm512_add_epi32(m_laneGroup, _mm512_set1_epi32(gi0 & 7)), 2);
        z = _mm512_cvtepi32_ps(_mm512_and_si512(
            _mm512_srlv_epi32(_mm512_set1_epi32(static_cast<int>(zerosRow[gi0 >> 3])), shifts), _mm512_set1_epi32(0xF)));
    }

private:
    int m_group;
    bool m_whole;
    __m512i m_laneGroup;
    __mmask16 m_scaleMask;
};

}  // namespace
}  // namespace awq::kernels::detail
