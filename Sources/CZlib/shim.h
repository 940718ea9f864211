#ifndef MV_CZLIB_SHIM_H
#define MV_CZLIB_SHIM_H

/* zlib (Debian: zlib1g-dev) for the pack writer: deflate, adler32 and crc32. A module of its
   own, so the Git target says which C libraries it uses and nothing else sees zlib.h. */
#include <zlib.h>

#endif
