import CGit2

/// libgit2's global state, initialised once per process before the first repository opens.
enum Library {
    static let initialized: Bool = {
        _ = git_libgit2_init()
        // Refuse to write objects that point at missing objects: a dangling tree entry would
        // otherwise only show up later in `git fsck`.
        _ = mv_git_set_strict_object_creation(1)
        return true
    }()
}
