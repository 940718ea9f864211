#define _GNU_SOURCE
#include "mv_mbedtls_stand_ins.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>

/* Why: git_libgit2_init() parses the whole system CA bundle for HTTPS (Debian's libgit2 uses
 * mbedTLS, whose base64 and X.509 parsing of ~140 certificates takes ~5 ms here), on every
 * run of every mv command. mv never opens a remote through libgit2 (pushes and fetches are
 * git's own), so the bundle is never used. The dynamic linker resolves libgit2's calls to
 * the first definition in its search order, which is the executable's: these two stand in
 * for libmbedx509's and load nothing while mv's initialisation runs, and forward to the
 * real ones at any other time (an explicit GIT_OPT_SET_SSL_CERT_LOCATIONS still works). */

static atomic_int skipping;
static atomic_int skipped;

void mv_skip_certificate_bundle(int skip) { atomic_store(&skipping, skip); }

int mv_skipped_certificate_bundles(void) { return atomic_load(&skipped); }

typedef int (*parse_function)(void *chain, const char *path);

static int forward(const char *name, void *chain, const char *path) {
    if (atomic_load(&skipping)) {
        atomic_fetch_add(&skipped, 1);
        return 0;
    }
    parse_function real = (parse_function)dlsym(RTLD_NEXT, name);
    /* MBEDTLS_ERR_X509_FILE_IO_ERROR: nothing to forward to. */
    return real ? real(chain, path) : -0x2900;
}

int mbedtls_x509_crt_parse_file(void *chain, const char *path) {
    return forward("mbedtls_x509_crt_parse_file", chain, path);
}

int mbedtls_x509_crt_parse_path(void *chain, const char *path) {
    return forward("mbedtls_x509_crt_parse_path", chain, path);
}
