#ifndef MV_MBEDTLS_STAND_INS_H
#define MV_MBEDTLS_STAND_INS_H

/* CMbedTLSStandIns: definitions of mbedtls_x509_crt_parse_file and _path that libgit2
 * reaches instead of libmbedx509's (the executable's symbols come first), so that
 * git_libgit2_init() does not parse the system's CA bundle, which mv never uses
 * (stand_ins.c says why). At any other time they forward to the real functions.
 *
 * While set, libgit2's initialisation does not parse the system's CA bundle. Set it around
 * git_libgit2_init() only. */
void mv_skip_certificate_bundle(int skip);

/* How many bundles were skipped so far: libgit2 reached mv's definition. */
int mv_skipped_certificate_bundles(void);

#endif
