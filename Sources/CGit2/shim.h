#ifndef MV_CGIT2_SHIM_H
#define MV_CGIT2_SHIM_H

#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <malloc.h>
#include <sys/uio.h>

/* git_libgit2_opts is C-variadic, which Swift cannot call: one fixed-signature wrapper per option mv sets. */
static inline int mv_git_set_fsync_gitdir(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, enabled);
}

static inline int mv_git_set_strict_object_creation(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, enabled);
}

/* The CA bundle for HTTPS; mv's initialisation skips the system's (CGit2Setup). */
static inline int mv_git_set_ssl_cert_file(const char *file) {
    return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, NULL);
}

static inline int mv_git_set_owner_validation(int enabled) {
    return git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, enabled);
}

static inline int mv_git_set_strict_hash_verification(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, enabled);
}

/* Pack files are read through mmap'd windows; these bound how much of a pack is mapped. */
static inline int mv_git_set_mwindow_size(size_t bytes) {
    return git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, bytes);
}

static inline int mv_git_set_mwindow_mapped_limit(size_t bytes) {
    return git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, bytes);
}

/* libgit2 mallocs a buffer per packed blob it reads; these keep such blocks in the heap. */
static inline void mv_malloc_reuse_large_blocks(int mmap_threshold, int trim_threshold) {
    mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    mallopt(M_TRIM_THRESHOLD, trim_threshold);
}

/* Linux's sync_file_range, which Glibc's Swift module hides (it needs _GNU_SOURCE). */
extern int sync_file_range(int fd, long long offset, long long nbytes, unsigned int flags);

/* Starts writing back dirty pages of a range without waiting (SYNC_FILE_RANGE_WRITE). */
static inline int mv_start_writeback(int fd, long long offset, long long nbytes) {
    return sync_file_range(fd, offset, nbytes, 2);
}

/* Linux's preadv2, hidden the same way (the types are glibc's ssize_t and off_t on 64-bit Linux). */
extern long preadv2(int fd, const struct iovec *iov, int iovcnt, long offset, int flags);

/* Reads only what the page cache holds (RWF_NOWAIT): -1 with errno EAGAIN, or a short count,
   rather than waiting for the disk; EOPNOTSUPP where the file system cannot tell. */
static inline long mv_pread_cached(int fd, void *buffer, unsigned long count, long long offset) {
    struct iovec piece = { buffer, count };
    return preadv2(fd, &piece, 1, (long)offset, 0x00000008);
}

#endif
