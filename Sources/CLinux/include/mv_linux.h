#ifndef MV_LINUX_H
#define MV_LINUX_H

/* CLinux: the Linux system interfaces SystemIO needs that Swift's Glibc module does not
 * export (they are behind _GNU_SOURCE, or newer than its headers), as named constants and
 * fixed-signature wrappers, the way swift-nio's CNIOLinux does. Swift code uses these names,
 * never raw flag numbers. mv builds on Linux with glibc only. */

#ifndef __linux__
#error "mv builds on Linux (glibc) only: SystemIO relies on O_DIRECT, preadv2, sync_file_range and mincore"
#endif

#include <stddef.h>
#include <sys/types.h>

/* open(2): write around the page cache. */
extern const int mv_linux_O_DIRECT;

/* madvise(2): back a range with transparent huge pages; fault a range in writable now. */
extern const int mv_linux_MADV_HUGEPAGE;
extern const int mv_linux_MADV_POPULATE_WRITE;

/* preadv2(2) with RWF_NOWAIT: reads only what the page cache holds. Returns -1 with errno
 * EAGAIN (or a short count) rather than waiting for the disk; EOPNOTSUPP where the file
 * system cannot tell. */
ssize_t mv_linux_pread_cached(int fd, void *buffer, size_t count, off_t offset);

/* sync_file_range(2) with SYNC_FILE_RANGE_WRITE: starts writing back dirty pages of a range
 * without waiting for them. */
int mv_linux_start_writeback(int fd, off_t offset, off_t count);

/* mallopt(3): serve blocks up to `mmap_threshold` bytes from the heap and keep up to
 * `trim_threshold` bytes of free heap, so big buffers freed and allocated again are reused
 * instead of being fresh pages each time. */
void mv_linux_reuse_large_heap_blocks(int mmap_threshold, int trim_threshold);

/* mallopt(3) for a long-running server: at most `arenas` malloc arenas, blocks past
 * `mmap_threshold` mapped on their own, free memory past `trim_threshold` returned. */
void mv_linux_compact_heap(int arenas, int mmap_threshold, int trim_threshold);

/* malloc_trim(3): return free heap memory to the system now. */
void mv_linux_trim_heap(void);

#endif
