#ifndef MV_POLYHASH_H
#define MV_POLYHASH_H

#include <stddef.h>
#include <stdint.h>

/* CPolyHash: the keyed hash under tensor fingerprints (ModelFormat/TensorFingerprint.swift),
 * which let mv tell an unchanged tensor from the new bytes alone (docs/STORAGE.md).
 *
 * A polynomial hash over GF(2^128) keyed by a secret element H: a message of n 16-byte
 * blocks m_1..m_n (zero-padded to a multiple of 256 bytes) hashes to
 * m_1 H^(n-1) + m_2 H^(n-2) + ... + m_n. For two different messages of the same length and a
 * key H drawn at random, the hashes are equal with probability at most (n-1)/2^128, however
 * the messages were chosen (as long as that was without knowing H). Sixteen interleaved
 * lanes keep the carry-less multipliers busy: ~18 GB/s with AVX-512 VPCLMULQDQ. */

enum {
    MV_POLYHASH_PORTABLE = 0,
    MV_POLYHASH_X1 = 1, /* PCLMULQDQ, one 128-bit lane per instruction */
    MV_POLYHASH_X2 = 2, /* AVX2 VPCLMULQDQ, two lanes per instruction */
    MV_POLYHASH_X4 = 4, /* AVX-512 VPCLMULQDQ, four lanes per instruction */
};

typedef struct {
    uint64_t powers[16][2]; /* H^1 .. H^16 */
    uint64_t strides[4][2]; /* H^16, H^32, H^48, H^64 */
    uint64_t lanes[16][2];
    uint8_t buffer[256];
    size_t pending;
    uint64_t length;
    int path;
} mv_polyhash_state;

/* The fastest implementation this CPU has (all give equal results). */
int mv_polyhash_best_path(void);

/* Starts a hash with key H (16 bytes, little-endian; must not be zero) computed by `path`;
 * -1 when this CPU lacks it. */
int mv_polyhash_init(mv_polyhash_state *state, const uint8_t key[16], int path);
/* Empties the hash for the next message, keeping key and implementation. */
void mv_polyhash_reset(mv_polyhash_state *state);
void mv_polyhash_update(mv_polyhash_state *state, const void *bytes, size_t count);
/* The hash of everything given to update, in any pieces; `state->length` counts the bytes. */
void mv_polyhash_final(mv_polyhash_state *state, uint8_t out[16]);

#endif
