#ifndef MV_CGIT2_SHIM_H
#define MV_CGIT2_SHIM_H

/* CGit2: Debian's libgit2 1.5 (libgit2-dev) for the Git target, and nothing else. Only
 * git_libgit2_opts needs a wrapper here: it is C-variadic, which Swift cannot call. */

#include <git2.h>
#include <git2/sys/odb_backend.h>

/* One fixed-signature wrapper per option mv sets. */
static inline int mv_git_set_fsync_gitdir(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, enabled);
}

static inline int mv_git_set_strict_object_creation(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, enabled);
}

/* The CA bundle for HTTPS; mv's initialisation skips the system's (CMbedTLSStandIns). */
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

#endif
