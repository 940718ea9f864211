#ifndef MV_GIT2_SETUP_H
#define MV_GIT2_SETUP_H

/* While set, libgit2's initialisation does not parse the system's CA bundle (see
 * certificates.c). Set it around git_libgit2_init() only. */
void mv_skip_certificate_bundle(int skip);

/* How many bundles were skipped so far: libgit2 reached mv's definition. */
int mv_skipped_certificate_bundles(void);

#endif
