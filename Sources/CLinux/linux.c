#define _GNU_SOURCE
#include "mv_linux.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/uio.h>

/* Kernel 5.14; glibc headers older than 2.35 do not name it. An older kernel refuses the
 * advice with EINVAL, which callers ignore (the pages then fault in as they are touched). */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

const int mv_linux_O_DIRECT = O_DIRECT;
const int mv_linux_MADV_HUGEPAGE = MADV_HUGEPAGE;
const int mv_linux_MADV_POPULATE_WRITE = MADV_POPULATE_WRITE;

ssize_t mv_linux_pread_cached(int fd, void *buffer, size_t count, off_t offset) {
    struct iovec piece = { buffer, count };
    return preadv2(fd, &piece, 1, offset, RWF_NOWAIT);
}

int mv_linux_start_writeback(int fd, off_t offset, off_t count) {
    return sync_file_range(fd, offset, count, SYNC_FILE_RANGE_WRITE);
}

void mv_linux_reuse_large_heap_blocks(int mmap_threshold, int trim_threshold) {
    mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    mallopt(M_TRIM_THRESHOLD, trim_threshold);
}

void mv_linux_compact_heap(int arenas, int mmap_threshold, int trim_threshold) {
    mallopt(M_ARENA_MAX, arenas);
    mv_linux_reuse_large_heap_blocks(mmap_threshold, trim_threshold);
}

void mv_linux_trim_heap(void) {
    malloc_trim(0);
}
