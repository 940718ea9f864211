// Git: a small safe wrapper over libgit2 1.5 (CGit2) — one libgit2 concept per file
// (Repository, ObjectDatabase, Tree, Commit, Tag, Reference, Index, Status, Config,
// Signature), every handle freed in `deinit`, every failure a `GitError` carrying libgit2's
// message — and, in `Pack/`, mv's own pack files: writing new blobs straight into a
// `.pack` + `.idx` (PackWriter, BlobPack, SegmentedDeflate) and reading blobs stored as
// uncompressed deflate blocks straight from packs (StoredBlobLocator). It exposes no
// libgit2 type, knows nothing of models, tensors or mv's tags, and makes its file system
// calls through SystemIO. libgit2 never runs hooks and libgit2 1.5 cannot fetch shallowly:
// callers use the git CLI for those.

import CGit2
import Foundation

/// An open Git repository. Objects read from it keep it alive; every libgit2 handle made
/// through it is freed by the Swift object that owns it.
public final class Repository {
    let pointer: OpaquePointer

    private init(pointer: OpaquePointer) { self.pointer = pointer }

    deinit { git_repository_free(pointer) }

    /// Opens the repository `path` is in, by git's own rules: with GIT_DIR set, the one it
    /// names (and GIT_WORK_TREE, core.worktree, or `path` as its work tree); otherwise the
    /// first repository found from `path` upward, following a `.git` file to a separate git
    /// directory or a worktree's (`git init --separate-git-dir`, `git worktree add`).
    public static func discover(from path: String) throws -> Repository {
        _ = Library.initialized
        if let gitDir = ProcessInfo.processInfo.environment["GIT_DIR"], !gitDir.isEmpty {
            return try openFromEnvironment(path: path)
        }
        var repo: OpaquePointer?
        // Opening from `path` (not from the git directory found) keeps the work tree a `.git`
        // file points from; libgit2 would take the git directory's parent otherwise.
        try check(git_repository_open_ext(&repo, path, 0, nil), "not a git repository (or any parent up to /): '\(path)'")
        guard let repo else { throw GitError(code: .notFound, message: "", context: "not a git repository: '\(path)'") }
        return Repository(pointer: repo)
    }

    /// Opens the repository the way git's own environment describes it (GIT_DIR,
    /// GIT_WORK_TREE, GIT_INDEX_FILE, GIT_OBJECT_DIRECTORY, GIT_ALTERNATE_OBJECT_DIRECTORIES…),
    /// as a hook must: a pre-commit hook sees the index being committed, a pre-receive hook
    /// the quarantined objects of the push.
    public static func openFromEnvironment(path: String) throws -> Repository {
        _ = Library.initialized
        // libgit2 1.5 refuses to open from the environment while GIT_WORK_TREE is set (git
        // exports it to hooks): open without it, then apply it to the repository.
        let workTree = ProcessInfo.processInfo.environment["GIT_WORK_TREE"]
        if workTree != nil { unsetenv("GIT_WORK_TREE") }
        defer { if let workTree { setenv("GIT_WORK_TREE", workTree, 1) } }
        var repo: OpaquePointer?
        // libgit2 1.5 reads GIT_DIR only when given no start path (measured: with one, it
        // searches from there and ignores GIT_DIR).
        let gitDir = ProcessInfo.processInfo.environment["GIT_DIR"].map { !$0.isEmpty } ?? false
        try check(
            git_repository_open_ext(&repo, gitDir ? nil : path, GIT_REPOSITORY_OPEN_FROM_ENV.rawValue, nil),
            "cannot open the repository described by GIT_DIR from '\(path)'")
        guard let repo else { throw GitError(code: .notFound, message: "", context: "cannot open repository") }
        let repository = Repository(pointer: repo)
        if let workTree, !workTree.isEmpty {
            try check(git_repository_set_workdir(repo, workTree, 0), "using GIT_WORK_TREE '\(workTree)'")
        } else if ProcessInfo.processInfo.environment["GIT_DIR"] != nil, !repository.isBare,
            (try? repository.configString("core.worktree")) == nil
        {
            // git: "If GIT_DIR is set but none of GIT_WORK_TREE and core.worktree is set, the
            // current working directory is regarded as the top level of your working tree."
            try check(git_repository_set_workdir(repo, path, 0), "using '\(path)' as the work tree")
        }
        return repository
    }

    public static func open(at path: String) throws -> Repository {
        _ = Library.initialized
        var repo: OpaquePointer?
        try check(git_repository_open(&repo, path), "cannot open repository at '\(path)'")
        guard let repo else { throw GitError(code: .notFound, message: "", context: "cannot open repository at '\(path)'") }
        return Repository(pointer: repo)
    }

    /// Creates a non-bare repository (with `initialBranch` as its unborn HEAD) or reopens one.
    public static func create(at path: String, initialBranch: String = "main") throws -> Repository {
        _ = Library.initialized
        var options = git_repository_init_options()
        try check(git_repository_init_options_init(&options, UInt32(GIT_REPOSITORY_INIT_OPTIONS_VERSION)), "initializing options")
        options.flags = GIT_REPOSITORY_INIT_MKPATH.rawValue
        var repo: OpaquePointer?
        try initialBranch.withCString { branch in
            options.initial_head = branch
            try check(git_repository_init_ext(&repo, path, &options), "cannot create a repository at '\(path)'")
        }
        guard let repo else { throw GitError(code: .other(-1), message: "", context: "cannot create a repository at '\(path)'") }
        return Repository(pointer: repo)
    }

    /// The work tree folder, with a trailing slash; nil for a bare repository.
    public var workingDirectory: URL? {
        guard let path = git_repository_workdir(pointer) else { return nil }
        return URL(fileURLWithPath: String(cString: path), isDirectory: true)
    }

    /// The `.git` folder.
    public var gitDirectory: URL {
        URL(fileURLWithPath: String(cString: git_repository_path(pointer)), isDirectory: true)
    }

    /// The folder shared by all worktrees (refs, objects, packed-refs); `gitDirectory`
    /// itself except in a linked worktree.
    public var commonDirectory: URL {
        URL(fileURLWithPath: String(cString: git_repository_commondir(pointer)), isDirectory: true)
    }

    public var isBare: Bool { git_repository_is_bare(pointer) == 1 }

    /// A clone with a truncated history (`git clone --depth`).
    public var isShallow: Bool { git_repository_is_shallow(pointer) == 1 }

    /// The identity for new commits and tags: GIT_AUTHOR_NAME/EMAIL when set (as git does),
    /// else user.name/user.email from git config.
    public func defaultSignature(at time: Date = Date()) throws -> Signature {
        let env = ProcessInfo.processInfo.environment
        if let name = env["GIT_AUTHOR_NAME"], let email = env["GIT_AUTHOR_EMAIL"], !name.isEmpty {
            return Signature(name: name, email: email, time: time)
        }
        var sig: UnsafeMutablePointer<git_signature>?
        let rc = git_signature_default(&sig, pointer)
        if rc < 0 || sig == nil {
            throw GitError(
                code: .notFound, message: "",
                context:
                    "no git identity: set one with 'git config user.name \"Your Name\"' and 'git config user.email you@example.com'")
        }
        defer { git_signature_free(sig) }
        guard let sig else { throw GitError(code: .notFound, message: "", context: "no git identity") }
        var value = Signature(sig)
        value.time = time
        value.offsetMinutes = TimeZone.current.secondsFromGMT(for: time) / 60
        return value
    }

    /// Names the reflog's author, which libgit2 otherwise takes from the global config only.
    public func setReflogIdentity(_ signature: Signature) throws {
        try check(git_repository_set_ident(pointer, signature.name, signature.email), "setting the reflog identity")
    }

    public var objects: ObjectDatabase { ObjectDatabase(repository: self) }
}
