import CGit2

/// libgit2's global state, initialised once per process before the first repository opens.
enum Library {
    static let initialized: Bool = {
        _ = git_libgit2_init()
        // Refuse to write objects that point at missing objects: a dangling tree entry would
        // otherwise only show up later in `git fsck`.
        _ = mv_git_set_strict_object_creation(1)
        // libgit2 maps packs in 1 GiB windows up to 8 GiB by default, and every page it reads
        // stays mapped, so re-hashing a 4 GiB tensor showed 4.2 GiB of RSS. Smaller windows
        // and a low mapped limit make it unmap what it has read.
        // libgit2 re-hashes every object it reads with sha1dc (git itself only does so in
        // fsck): ~330 MB/s, most of the time of reading a big tensor back. mv checks every
        // tensor it reads against the manifest's SHA-256 instead.
        _ = mv_git_set_strict_hash_verification(0)
        _ = mv_git_set_mwindow_size(32 << 20)
        _ = mv_git_set_mwindow_mapped_limit(128 << 20)
        return true
    }()
}
