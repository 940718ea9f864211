#include "mv_pack_checksums.h"

#include <zlib.h>

/* Why: a float tensor goes into the pack as stored deflate blocks, so the pack writer's only
 * work per byte besides copying is the zlib stream's Adler-32 and the index's CRC-32. zlib
 * 1.2.13 computes them at ~3 GB/s; folding with carry-less multiplies and summing with AVX2
 * runs several times faster, which on 512 MiB is ~0.35 s of CPU. */

#if defined(__x86_64__)
#include <immintrin.h>

/* CRC-32 (reflected polynomial 0xEDB88320) of a multiple of 16 bytes, at least 64, from the
 * raw register value `crc` (no pre- or post-inversion). Four 128-bit lanes are folded forward
 * 512 bits at a time, merged into one, folded 128 bits at a time, then reduced to 32 bits by
 * a fold and a Barrett reduction. Constants are x^n mod P, bit-reflected, for the distances
 * used: 4*128+32 / 4*128-32 (lanes), 128+32 / 128-32 (one lane), 64 (to 64 bits), and the
 * Barrett pair (P with its x^32 term, and floor(x^64 / P)). */
__attribute__((target("pclmul,sse4.1")))
static uint32_t crc32_fold(uint32_t crc, const uint8_t *p, size_t count) {
    const __m128i lanes = _mm_set_epi64x(0x1c6e41596LL, 0x154442bd4LL);
    const __m128i single = _mm_set_epi64x(0x0ccaa009eLL, 0x1751997d0LL);
    const __m128i to64 = _mm_set_epi64x(0, 0x163cd6124LL);
    const __m128i barrett = _mm_set_epi64x(0x1f7011641LL, 0x1db710641LL);
    const __m128i low32 = _mm_set_epi32(0, 0, 0, -1);

    __m128i x0 = _mm_loadu_si128((const __m128i *)(p + 0));
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 48));
    x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)crc));
    p += 64;
    count -= 64;

#define MV_FOLD(x, k, next) \
    _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128((x), (k), 0x00), _mm_clmulepi64_si128((x), (k), 0x11)), (next))

    while (count >= 64) {
        x0 = MV_FOLD(x0, lanes, _mm_loadu_si128((const __m128i *)(p + 0)));
        x1 = MV_FOLD(x1, lanes, _mm_loadu_si128((const __m128i *)(p + 16)));
        x2 = MV_FOLD(x2, lanes, _mm_loadu_si128((const __m128i *)(p + 32)));
        x3 = MV_FOLD(x3, lanes, _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64;
        count -= 64;
    }
    __m128i x = MV_FOLD(x0, single, x1);
    x = MV_FOLD(x, single, x2);
    x = MV_FOLD(x, single, x3);
    while (count >= 16) {
        x = MV_FOLD(x, single, _mm_loadu_si128((const __m128i *)p));
        p += 16;
        count -= 16;
    }
#undef MV_FOLD

    /* 128 -> 64 bits: the low half moves 64 bits forward onto the high half. */
    x = _mm_xor_si128(_mm_clmulepi64_si128(x, single, 0x10), _mm_srli_si128(x, 8));
    /* 64 -> 32 bits (plus the 32 zero bits the remainder needs). */
    x = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x, low32), to64, 0x00), _mm_srli_si128(x, 4));
    /* Barrett reduction to the 32-bit remainder. */
    __m128i t = _mm_clmulepi64_si128(_mm_and_si128(x, low32), barrett, 0x10);
    t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), barrett, 0x00);
    x = _mm_xor_si128(x, t);
    return (uint32_t)_mm_extract_epi32(x, 1);
}

/* Adler-32 over whole 32-byte blocks: per block, the byte sum (vpsadbw) and the sum of bytes
 * weighted 32..1 (vpmaddubsw, vpmaddwd); `b` also gains 32 times `a` as it stood before each
 * block, kept as a running sum of the block sums. 64-bit totals are reduced modulo 65521
 * every 4096 blocks, far before they could overflow. */
__attribute__((target("avx2")))
static uint32_t adler32_blocks(uint32_t adler, const uint8_t *p, size_t blocks) {
    const __m256i weights = _mm256_setr_epi8(32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
                                             16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i zero = _mm256_setzero_si256();
    uint64_t a = adler & 0xffff, b = adler >> 16;
    while (blocks > 0) {
        size_t n = blocks < 4096 ? blocks : 4096;
        __m256i sums = zero, earlier = zero, weighted = zero;
        for (size_t i = 0; i < n; i++) {
            __m256i d = _mm256_loadu_si256((const __m256i *)p);
            earlier = _mm256_add_epi64(earlier, sums);
            sums = _mm256_add_epi64(sums, _mm256_sad_epu8(d, zero));
            weighted = _mm256_add_epi32(weighted, _mm256_madd_epi16(_mm256_maddubs_epi16(d, weights), ones));
            p += 32;
        }
        uint64_t s, e, w = 0;
        uint64_t sl[4], el[4];
        uint32_t wl[8];
        _mm256_storeu_si256((__m256i *)sl, sums);
        _mm256_storeu_si256((__m256i *)el, earlier);
        _mm256_storeu_si256((__m256i *)wl, weighted);
        s = sl[0] + sl[1] + sl[2] + sl[3];
        e = el[0] + el[1] + el[2] + el[3];
        for (int lane = 0; lane < 8; lane++) w += wl[lane];
        b += 32 * n * a + 32 * e + w;
        a += s;
        a %= 65521;
        b %= 65521;
        blocks -= n;
    }
    return (uint32_t)(b << 16 | a);
}

/* The CPU model is read once at load time by the compiler runtime; these only test bits. */
static int has_pclmul(void) { return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1"); }
static int has_avx2(void) { return __builtin_cpu_supports("avx2"); }
#else
static int has_pclmul(void) { return 0; }
static int has_avx2(void) { return 0; }
#endif

int mv_crc32_is_accelerated(void) { return has_pclmul(); }
int mv_adler32_is_accelerated(void) { return has_avx2(); }

/* zlib's crc32() and adler32() take uInt lengths: feed them at most 1 GiB at a time. */
typedef uLong (*zlib_checksum)(uLong, const Bytef *, uInt);

static uint32_t zlib_in_pieces(zlib_checksum checksum, uint32_t value, const uint8_t *p, size_t count) {
    while (count > 0) {
        uInt n = count > (1u << 30) ? (1u << 30) : (uInt)count;
        value = (uint32_t)checksum(value, p, n);
        p += n;
        count -= n;
    }
    return value;
}

uint32_t mv_crc32(uint32_t crc, const void *bytes, size_t count) {
    const uint8_t *p = bytes;
#if defined(__x86_64__)
    if (count >= 64 && has_pclmul()) {
        size_t whole = count & ~(size_t)15;
        /* zlib's value is the register inverted before and after. */
        uint32_t state = crc32_fold(~crc, p, whole);
        return zlib_in_pieces(crc32, ~state, p + whole, count - whole);
    }
#endif
    return zlib_in_pieces(crc32, crc, p, count);
}

uint32_t mv_adler32(uint32_t adler, const void *bytes, size_t count) {
    const uint8_t *p = bytes;
#if defined(__x86_64__)
    if (count >= 64 && has_avx2()) {
        size_t blocks = count / 32;
        adler = adler32_blocks(adler, p, blocks);
        p += blocks * 32;
        count -= blocks * 32;
    }
#endif
    return zlib_in_pieces(adler32, adler, p, count);
}
