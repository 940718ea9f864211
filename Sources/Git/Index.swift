import CGit2
import Foundation
import SystemIO

/// The repository's index (staging area), edited entry by entry so the user's own staged
/// changes to other paths are left exactly as they were.
public final class Index {
    let pointer: OpaquePointer
    let repository: Repository

    init(pointer: OpaquePointer, repository: Repository) {
        self.pointer = pointer
        self.repository = repository
    }

    deinit { git_index_free(pointer) }

    /// Rereads the index file, dropping any unsaved in-memory change.
    public func reload() throws {
        try check(git_index_read(pointer, 1), "reading the index")
    }

    /// Writes the index file (taking git's `index.lock` for the duration of the write).
    public func write() throws {
        try check(git_index_write(pointer), "writing the index")
    }

    /// The staged blob and mode at `path` (stage 0), nil when the path is not in the index.
    public func entry(atPath path: String) -> (id: ObjectID, mode: UInt32)? {
        guard let entry = git_index_get_bypath(pointer, path, 0) else { return nil }
        return (ObjectID(entry.pointee.id), entry.pointee.mode)
    }

    /// Paths in the index that start with `prefix`.
    public func paths(under prefix: String) -> [String] {
        (0..<git_index_entrycount(pointer)).compactMap { index in
            guard let entry = git_index_get_byindex(pointer, index), let path = entry.pointee.path else { return nil }
            let value = String(cString: path)
            return value.hasPrefix(prefix) ? value : nil
        }
    }

    /// The object ids of all entries.
    public func entryIDs() -> [ObjectID] {
        (0..<git_index_entrycount(pointer)).compactMap { index in
            git_index_get_byindex(pointer, index).map { ObjectID($0.pointee.id) }
        }
    }

    /// Stages blob `id` at `path`, taking size and times from the work-tree file at
    /// `file` so that `git status` sees the file as unchanged without rehashing it.
    public func add(path: String, id: ObjectID, mode: FileMode, statFrom file: URL) throws {
        let stamp = try FileStamp.of(file.path)
        var entry = git_index_entry()
        // git keeps 32 bits of each, truncated the same way.
        entry.ctime = git_index_time(
            seconds: Int32(truncatingIfNeeded: stamp.changedSeconds),
            nanoseconds: UInt32(truncatingIfNeeded: stamp.changedNanoseconds))
        entry.mtime = git_index_time(
            seconds: Int32(truncatingIfNeeded: stamp.modifiedSeconds),
            nanoseconds: UInt32(truncatingIfNeeded: stamp.modifiedNanoseconds))
        entry.dev = UInt32(truncatingIfNeeded: stamp.device)
        entry.ino = UInt32(truncatingIfNeeded: stamp.inode)
        entry.uid = stamp.user
        entry.gid = stamp.group
        entry.file_size = UInt32(truncatingIfNeeded: stamp.size)
        entry.mode = mode.rawValue
        entry.id = id.raw
        // The path pointer must stay valid for the duration of git_index_add.
        try path.withCString { cPath in
            entry.path = cPath
            try check(git_index_add(pointer, &entry), "staging '\(path)'")
        }
    }

    /// Stages blob `id` at `path` with git's skip-worktree bit: git treats the path as
    /// unchanged whatever the work tree holds (mv keeps tensor chunks only in Git and an
    /// assembled file in the work tree).
    public func addSkippingWorktree(path: String, id: ObjectID, mode: FileMode) throws {
        try add(path: path, id: id, mode: mode, flags: UInt16(GIT_INDEX_ENTRY_SKIP_WORKTREE.rawValue))
    }

    /// Stages blob `id` at `path` with no stat data, so git hashes the work-tree file to
    /// compare it: for a file that is not (or may not be) that blob.
    public func addUnverified(path: String, id: ObjectID, mode: FileMode) throws {
        try add(path: path, id: id, mode: mode, flags: 0)
    }

    private func add(path: String, id: ObjectID, mode: FileMode, flags: UInt16) throws {
        var entry = git_index_entry()
        entry.mode = mode.rawValue
        entry.id = id.raw
        entry.flags_extended = flags
        try path.withCString { cPath in
            entry.path = cPath
            try check(git_index_add(pointer, &entry), "staging '\(path)'")
        }
    }

    /// Whether `path` is staged with the skip-worktree bit.
    public func skipsWorktree(_ path: String) -> Bool {
        guard let entry = git_index_get_bypath(pointer, path, 0) else { return false }
        return entry.pointee.flags_extended & UInt16(GIT_INDEX_ENTRY_SKIP_WORKTREE.rawValue) != 0
    }

    /// Writes the index's content as tree objects and returns the root tree.
    public func writeTree() throws -> ObjectID {
        var oid = git_oid()
        try check(git_index_write_tree(&oid, pointer), "writing the index as a tree")
        return ObjectID(oid)
    }

    public func remove(path: String) throws {
        let rc = git_index_remove(pointer, path, 0)
        if rc == GIT_ENOTFOUND.rawValue { return }
        try check(rc, "unstaging '\(path)'")
    }
}

extension Repository {
    /// Writes an index file at `url` holding exactly `tree`, for a hook that must inspect
    /// what is about to be committed through GIT_INDEX_FILE.
    public func writeIndex(of tree: ObjectID, to url: URL) throws {
        var index: OpaquePointer?
        try check(git_index_open(&index, url.path), "creating index '\(url.path)'")
        defer { git_index_free(index) }
        var treePointer: OpaquePointer?
        var oid = tree.raw
        try check(git_tree_lookup(&treePointer, pointer, &oid), "reading tree \(tree.short)")
        defer { git_tree_free(treePointer) }
        try check(git_index_read_tree(index, treePointer), "filling index '\(url.path)'")
        try check(git_index_write(index), "writing index '\(url.path)'")
    }

    public func index() throws -> Index {
        var index: OpaquePointer?
        try check(git_repository_index(&index, pointer), "opening the index")
        guard let index else { throw GitError(code: .other(-1), message: "", context: "opening the index") }
        return Index(pointer: index, repository: self)
    }
}
