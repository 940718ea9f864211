#include "mv_polyhash.h"

#include <string.h>

/* Arithmetic in GF(2^128) with the modulus x^128 + x^7 + x^2 + x + 1, elements in natural
 * bit order: bit i of the 128-bit little-endian value is the coefficient of x^i. The
 * product of two elements is the 256-bit carry-less product, whose upper half h is folded
 * back with x^128 = x^7 + x^2 + x + 1 (0x87): h.lo * 0x87 lands on bits 0..70, h.hi * 0x87
 * on bits 64..134, and the 7 bits above 127 of the latter are folded once more. Every
 * implementation below does exactly this, so all of them give the same value. */

#define MV_POLY 0x87u

/* Carry-less 64x64 -> 128-bit product, for CPUs without a carry-less multiply instruction. */
static void clmul64(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi) {
    uint64_t l = 0, h = 0;
    for (int i = 0; i < 64; i++) {
        if ((b >> i) & 1) {
            l ^= a << i;
            if (i > 0) h ^= a >> (64 - i);
        }
    }
    *lo = l;
    *hi = h;
}

static void gf_mul_portable(const uint64_t a[2], const uint64_t b[2], uint64_t out[2]) {
    uint64_t p0, p1, q0, q1, m0, m1, n0, n1, r0, r1, s0, s1, t0, t1;
    clmul64(a[0], b[0], &p0, &p1);
    clmul64(a[1], b[1], &q0, &q1);
    clmul64(a[0], b[1], &m0, &m1);
    clmul64(a[1], b[0], &n0, &n1);
    uint64_t w0 = p0, w1 = p1 ^ m0 ^ n0, w2 = q0 ^ m1 ^ n1, w3 = q1;
    clmul64(w2, MV_POLY, &r0, &r1);
    clmul64(w3, MV_POLY, &s0, &s1);
    clmul64(s1, MV_POLY, &t0, &t1);
    out[0] = w0 ^ r0 ^ t0;
    out[1] = w1 ^ r1 ^ s0;
}

/* One 256-byte chunk: lane j becomes lane j * H^16 + block j. */
static void chunk_portable(mv_polyhash_state *s, const uint8_t *p) {
    for (int j = 0; j < 16; j++) {
        uint64_t block[2], product[2];
        memcpy(block, p + 16 * j, 16);
        gf_mul_portable(s->lanes[j], s->powers[15], product);
        s->lanes[j][0] = product[0] ^ block[0];
        s->lanes[j][1] = product[1] ^ block[1];
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("pclmul,sse4.1")))
static inline __m128i gf_mul_x1(__m128i a, __m128i b) {
    const __m128i poly = _mm_set_epi64x(0, MV_POLY);
    __m128i lo = _mm_clmulepi64_si128(a, b, 0x00);
    __m128i hi = _mm_clmulepi64_si128(a, b, 0x11);
    __m128i mid = _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x01), _mm_clmulepi64_si128(a, b, 0x10));
    lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
    hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
    __m128i r0 = _mm_clmulepi64_si128(hi, poly, 0x00);
    __m128i r1 = _mm_clmulepi64_si128(hi, poly, 0x01);
    __m128i r2 = _mm_clmulepi64_si128(r1, poly, 0x01);
    return _mm_xor_si128(_mm_xor_si128(lo, r0), _mm_xor_si128(_mm_slli_si128(r1, 8), r2));
}

__attribute__((target("pclmul,sse4.1")))
static void chunks_x1(mv_polyhash_state *s, const uint8_t *p, size_t chunks) {
    const __m128i h16 = _mm_loadu_si128((const __m128i *)s->powers[15]);
    __m128i lanes[16];
    for (int j = 0; j < 16; j++) lanes[j] = _mm_loadu_si128((const __m128i *)s->lanes[j]);
    for (size_t c = 0; c < chunks; c++, p += 256) {
        for (int j = 0; j < 16; j++) {
            lanes[j] = _mm_xor_si128(gf_mul_x1(lanes[j], h16), _mm_loadu_si128((const __m128i *)(p + 16 * j)));
        }
    }
    for (int j = 0; j < 16; j++) _mm_storeu_si128((__m128i *)s->lanes[j], lanes[j]);
}

/* Two lanes per 256-bit register (AVX2 CPUs with VPCLMULQDQ but no AVX-512): gf_mul_x1's
 * steps at twice the width, kept apart because each width needs its own intrinsics. */
__attribute__((target("avx2,vpclmulqdq")))
static inline __m256i gf_mul_x2(__m256i a, __m256i b, __m256i poly) {
    __m256i lo = _mm256_clmulepi64_epi128(a, b, 0x00);
    __m256i hi = _mm256_clmulepi64_epi128(a, b, 0x11);
    __m256i mid = _mm256_xor_si256(_mm256_clmulepi64_epi128(a, b, 0x01), _mm256_clmulepi64_epi128(a, b, 0x10));
    lo = _mm256_xor_si256(lo, _mm256_bslli_epi128(mid, 8));
    hi = _mm256_xor_si256(hi, _mm256_bsrli_epi128(mid, 8));
    __m256i r0 = _mm256_clmulepi64_epi128(hi, poly, 0x00);
    __m256i r1 = _mm256_clmulepi64_epi128(hi, poly, 0x01);
    __m256i r2 = _mm256_clmulepi64_epi128(r1, poly, 0x01);
    return _mm256_xor_si256(_mm256_xor_si256(lo, r0), _mm256_xor_si256(_mm256_bslli_epi128(r1, 8), r2));
}

__attribute__((target("avx2,vpclmulqdq")))
static void chunks_x2(mv_polyhash_state *s, const uint8_t *p, size_t chunks) {
    const __m256i poly = _mm256_set_epi64x(0, MV_POLY, 0, MV_POLY);
    const __m256i h16 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)s->powers[15]));
    __m256i lanes[8];
    for (int j = 0; j < 8; j++) lanes[j] = _mm256_loadu_si256((const __m256i *)s->lanes[2 * j]);
    for (size_t c = 0; c < chunks; c++, p += 256) {
        for (int j = 0; j < 8; j++) {
            lanes[j] = _mm256_xor_si256(gf_mul_x2(lanes[j], h16, poly), _mm256_loadu_si256((const __m256i *)(p + 32 * j)));
        }
    }
    for (int j = 0; j < 8; j++) _mm256_storeu_si256((__m256i *)s->lanes[2 * j], lanes[j]);
}

/* Four lanes per 512-bit register: gf_mul_x1's steps on each 128-bit lane. */
__attribute__((target("avx512f,avx512bw,vpclmulqdq")))
static inline __m512i gf_mul_x4(__m512i a, __m512i b, __m512i poly) {
    __m512i lo = _mm512_clmulepi64_epi128(a, b, 0x00);
    __m512i hi = _mm512_clmulepi64_epi128(a, b, 0x11);
    __m512i mid = _mm512_xor_si512(_mm512_clmulepi64_epi128(a, b, 0x01), _mm512_clmulepi64_epi128(a, b, 0x10));
    lo = _mm512_xor_si512(lo, _mm512_bslli_epi128(mid, 8));
    hi = _mm512_xor_si512(hi, _mm512_bsrli_epi128(mid, 8));
    __m512i r0 = _mm512_clmulepi64_epi128(hi, poly, 0x00);
    __m512i r1 = _mm512_clmulepi64_epi128(hi, poly, 0x01);
    __m512i r2 = _mm512_clmulepi64_epi128(r1, poly, 0x01);
    /* 0x96: three-way exclusive or. */
    return _mm512_ternarylogic_epi64(_mm512_xor_si512(lo, r0), _mm512_bslli_epi128(r1, 8), r2, 0x96);
}

/* Karatsuba's three products of a * b per lane, added into lo, hi and mid (mid still holds
 * lo and hi, which are taken out once after the sum); `ax` and `bx` have each lane's two
 * halves exchanged and added, so their low halves are a.lo + a.hi and b.lo + b.hi. */
#define MV_KARATSUBA_X4(a, ax, b, bx)                                                           \
    do {                                                                                        \
        lo = _mm512_xor_si512(lo, _mm512_clmulepi64_epi128((a), (b), 0x00));                    \
        hi = _mm512_xor_si512(hi, _mm512_clmulepi64_epi128((a), (b), 0x11));                    \
        mid = _mm512_xor_si512(mid, _mm512_clmulepi64_epi128((ax), (bx), 0x00));                \
    } while (0)

__attribute__((target("avx512f,avx512bw,vpclmulqdq")))
static inline __m512i halves_added(__m512i x) { return _mm512_xor_si512(x, _mm512_shuffle_epi32(x, _MM_PERM_BADC)); }

/* Four chunks at once per lane: lane * H^64 + m1 * H^48 + m2 * H^32 + m3 * H^16 + m4 (the
 * same as four single steps), the products added before the one reduction. */
__attribute__((target("avx512f,avx512bw,vpclmulqdq")))
static inline __m512i four_chunks_x4(__m512i a, const uint8_t *p, const __m512i h[4], const __m512i hx[4], __m512i poly) {
    __m512i m1 = _mm512_loadu_si512(p), m2 = _mm512_loadu_si512(p + 256), m3 = _mm512_loadu_si512(p + 512);
    __m512i lo = _mm512_setzero_si512(), hi = lo, mid = lo;
    MV_KARATSUBA_X4(a, halves_added(a), h[3], hx[3]);
    MV_KARATSUBA_X4(m1, halves_added(m1), h[2], hx[2]);
    MV_KARATSUBA_X4(m2, halves_added(m2), h[1], hx[1]);
    MV_KARATSUBA_X4(m3, halves_added(m3), h[0], hx[0]);
    mid = _mm512_ternarylogic_epi64(mid, lo, hi, 0x96);
    lo = _mm512_xor_si512(lo, _mm512_bslli_epi128(mid, 8));
    hi = _mm512_xor_si512(hi, _mm512_bsrli_epi128(mid, 8));
    __m512i r0 = _mm512_clmulepi64_epi128(hi, poly, 0x00);
    __m512i r1 = _mm512_clmulepi64_epi128(hi, poly, 0x01);
    __m512i r2 = _mm512_clmulepi64_epi128(r1, poly, 0x01);
    __m512i reduced = _mm512_ternarylogic_epi64(_mm512_xor_si512(lo, r0), _mm512_bslli_epi128(r1, 8), r2, 0x96);
    return _mm512_xor_si512(reduced, _mm512_loadu_si512(p + 768));
}

__attribute__((target("avx512f,avx512bw,vpclmulqdq")))
static void chunks_x4(mv_polyhash_state *s, const uint8_t *p, size_t chunks) {
    const __m512i poly = _mm512_set_epi64(0, MV_POLY, 0, MV_POLY, 0, MV_POLY, 0, MV_POLY);
    __m512i h[4], hx[4];
    for (int i = 0; i < 4; i++) {
        h[i] = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)s->strides[i]));
        hx[i] = halves_added(h[i]);
    }
    __m512i a0 = _mm512_loadu_si512(s->lanes[0]), a1 = _mm512_loadu_si512(s->lanes[4]);
    __m512i a2 = _mm512_loadu_si512(s->lanes[8]), a3 = _mm512_loadu_si512(s->lanes[12]);
    for (; chunks >= 4; chunks -= 4, p += 1024) {
        a0 = four_chunks_x4(a0, p, h, hx, poly);
        a1 = four_chunks_x4(a1, p + 64, h, hx, poly);
        a2 = four_chunks_x4(a2, p + 128, h, hx, poly);
        a3 = four_chunks_x4(a3, p + 192, h, hx, poly);
    }
    for (; chunks > 0; chunks--, p += 256) {
        a0 = _mm512_xor_si512(gf_mul_x4(a0, h[0], poly), _mm512_loadu_si512(p));
        a1 = _mm512_xor_si512(gf_mul_x4(a1, h[0], poly), _mm512_loadu_si512(p + 64));
        a2 = _mm512_xor_si512(gf_mul_x4(a2, h[0], poly), _mm512_loadu_si512(p + 128));
        a3 = _mm512_xor_si512(gf_mul_x4(a3, h[0], poly), _mm512_loadu_si512(p + 192));
    }
    _mm512_storeu_si512(s->lanes[0], a0);
    _mm512_storeu_si512(s->lanes[4], a1);
    _mm512_storeu_si512(s->lanes[8], a2);
    _mm512_storeu_si512(s->lanes[12], a3);
}

static int has_x1(void) { return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1"); }
static int has_x2(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("vpclmulqdq"); }
static int has_x4(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("vpclmulqdq");
}
#else
static int has_x1(void) { return 0; }
static int has_x2(void) { return 0; }
static int has_x2(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("vpclmulqdq"); }
static int has_x4(void) { return 0; }
#endif

/* One product by the fastest means at hand (powers and the final sum: 30 per tensor). */
static void gf_mul(int path, const uint64_t a[2], const uint64_t b[2], uint64_t out[2]) {
#if defined(__x86_64__)
    if (path != MV_POLYHASH_PORTABLE) {
        _mm_storeu_si128((__m128i *)out, gf_mul_x1(_mm_loadu_si128((const __m128i *)a), _mm_loadu_si128((const __m128i *)b)));
        return;
    }
#endif
    gf_mul_portable(a, b, out);
}

int mv_polyhash_best_path(void) {
    if (has_x4()) return MV_POLYHASH_X4;
    if (has_x2()) return MV_POLYHASH_X2;
    if (has_x1()) return MV_POLYHASH_X1;
    return MV_POLYHASH_PORTABLE;
}

int mv_polyhash_init(mv_polyhash_state *s, const uint8_t key[16], int path) {
    memset(s, 0, sizeof *s);
    if (path == MV_POLYHASH_X4 && !has_x4()) return -1;
    if (path == MV_POLYHASH_X2 && !has_x2()) return -1;
    if (path == MV_POLYHASH_X1 && !has_x1()) return -1;
    if (path != MV_POLYHASH_X4 && path != MV_POLYHASH_X2 && path != MV_POLYHASH_X1 && path != MV_POLYHASH_PORTABLE) return -1;
    s->path = path;
    memcpy(s->powers[0], key, 16);
    for (int i = 1; i < 16; i++) gf_mul(path, s->powers[i - 1], s->powers[0], s->powers[i]);
    memcpy(s->strides[0], s->powers[15], 16);
    for (int i = 1; i < 4; i++) gf_mul(path, s->strides[i - 1], s->strides[0], s->strides[i]);
    return 0;
}

void mv_polyhash_reset(mv_polyhash_state *s) {
    memset(s->lanes, 0, sizeof s->lanes);
    s->pending = 0;
    s->length = 0;
}

static void chunks(mv_polyhash_state *s, const uint8_t *p, size_t count) {
#if defined(__x86_64__)
    if (s->path == MV_POLYHASH_X4) {
        chunks_x4(s, p, count);
        return;
    }
    if (s->path == MV_POLYHASH_X2) {
        chunks_x2(s, p, count);
        return;
    }
    if (s->path == MV_POLYHASH_X1) {
        chunks_x1(s, p, count);
        return;
    }
#endif
    for (size_t c = 0; c < count; c++) chunk_portable(s, p + 256 * c);
}

void mv_polyhash_update(mv_polyhash_state *s, const void *bytes, size_t count) {
    const uint8_t *p = bytes;
    s->length += count;
    if (s->pending > 0) {
        size_t n = 256 - s->pending < count ? 256 - s->pending : count;
        memcpy(s->buffer + s->pending, p, n);
        s->pending += n;
        p += n;
        count -= n;
        if (s->pending < 256) return;
        chunks(s, s->buffer, 1);
        s->pending = 0;
    }
    size_t whole = count / 256;
    if (whole > 0) chunks(s, p, whole);
    p += whole * 256;
    count -= whole * 256;
    memcpy(s->buffer, p, count);
    s->pending = count;
}

void mv_polyhash_final(mv_polyhash_state *s, uint8_t out[16]) {
    if (s->pending > 0) {
        memset(s->buffer + s->pending, 0, 256 - s->pending);
        chunks(s, s->buffer, 1);
        s->pending = 0;
    }
    /* sum of lane j * H^(15 - j): the message's blocks, zero-padded to a whole chunk, as the
     * coefficients of a polynomial in H, the first block the highest power. */
    uint64_t sum[2] = {s->lanes[15][0], s->lanes[15][1]};
    for (int j = 0; j < 15; j++) {
        uint64_t product[2];
        gf_mul(s->path, s->lanes[j], s->powers[14 - j], product);
        sum[0] ^= product[0];
        sum[1] ^= product[1];
    }
    memcpy(out, sum, 16);
}
