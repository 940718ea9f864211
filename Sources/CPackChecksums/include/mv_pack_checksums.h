#ifndef MV_PACK_CHECKSUMS_H
#define MV_PACK_CHECKSUMS_H

#include <stddef.h>
#include <stdint.h>

/* CPackChecksums: the two checksums a pack entry needs besides the object id, fast.
 * mv writes tensors into packs as stored deflate blocks, so per byte the pack writer only
 * copies and sums: the zlib stream's Adler-32 and the .idx entry's CRC-32.
 *
 * zlib-compatible CRC-32 and Adler-32 that use the CPU's carry-less multiply (PCLMULQDQ)
 * and AVX2 where present, and zlib's own code elsewhere. Same arguments and results as
 * zlib's crc32() and adler32(): pass 0 (CRC-32) or 1 (Adler-32) to start. */
uint32_t mv_crc32(uint32_t crc, const void *bytes, size_t count);
uint32_t mv_adler32(uint32_t adler, const void *bytes, size_t count);

/* Which implementation runs here: 1 when the vector code is used, 0 for zlib's. */
int mv_crc32_is_accelerated(void);
int mv_adler32_is_accelerated(void);

#endif
