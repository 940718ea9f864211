import CGit2
import Foundation

/// The mode of a tree entry, limited to what mv writes and reads.
public enum FileMode: UInt32, Sendable {
    case blob = 0o100644
    case executable = 0o100755
    case tree = 0o040000
    case link = 0o120000
    case commit = 0o160000

    var git: git_filemode_t { git_filemode_t(rawValue: rawValue) }
}

/// One entry of a tree: a name, its mode and the object it names.
public struct TreeEntry: Sendable, Equatable {
    public var name: String
    public var mode: FileMode
    public var id: ObjectID

    public init(name: String, mode: FileMode, id: ObjectID) {
        self.name = name
        self.mode = mode
        self.id = id
    }

    public var isTree: Bool { mode == .tree }
}

/// A tree object read from the repository.
public final class Tree {
    let pointer: OpaquePointer
    let repository: Repository

    init(pointer: OpaquePointer, repository: Repository) {
        self.pointer = pointer
        self.repository = repository
    }

    deinit { git_tree_free(pointer) }

    public var id: ObjectID { ObjectID(git_tree_id(pointer)) }

    public var entries: [TreeEntry] {
        (0..<git_tree_entrycount(pointer)).compactMap { index in
            guard let entry = git_tree_entry_byindex(pointer, index) else { return nil }
            return TreeEntry(entry)
        }
    }

    /// The entry at a slash-separated path below this tree, or nil when there is none.
    public func entry(atPath path: String) throws -> TreeEntry? {
        var entry: OpaquePointer?
        let rc = git_tree_entry_bypath(&entry, pointer, path)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check(rc, "reading '\(path)'")
        guard let entry else { return nil }
        defer { git_tree_entry_free(entry) }
        return TreeEntry(entry)
    }
}

extension TreeEntry {
    init?(_ entry: OpaquePointer) {
        guard let mode = FileMode(rawValue: git_tree_entry_filemode(entry).rawValue) else { return nil }
        self.init(name: String(cString: git_tree_entry_name(entry)), mode: mode, id: ObjectID(git_tree_entry_id(entry)))
    }
}

extension Repository {
    public func tree(_ id: ObjectID) throws -> Tree {
        var tree: OpaquePointer?
        var oid = id.raw
        try check(git_tree_lookup(&tree, pointer, &oid), "reading tree \(id.short)")
        guard let tree else { throw GitError(code: .notFound, message: "", context: "reading tree \(id.short)") }
        return Tree(pointer: tree, repository: self)
    }

    /// Writes a tree holding exactly `entries`.
    public func writeTree(_ entries: [TreeEntry]) throws -> ObjectID {
        try editTree(base: nil) { builder in
            for entry in entries { try builder.insert(entry) }
        }
    }

    /// Returns `base` with the entry at `path` replaced by `replacement` (or removed when nil),
    /// rewriting only the trees along that path; emptied folders disappear as in git.
    public func replacingEntry(in base: ObjectID?, at path: [String], with replacement: TreeEntry?) throws -> ObjectID {
        try replacingEntries(in: base, [(path, replacement)])
    }

    /// `replacingEntry` for several paths at once, applied in order, each tree along the way
    /// written once: one edit per path would leave every intermediate tree behind as a
    /// dangling object (`git fsck` lists them).
    public func replacingEntries(in base: ObjectID?, _ changes: [(path: [String], entry: TreeEntry?)]) throws -> ObjectID {
        try replacing(in: base, changes.map { ($0.path[...], $0.entry) }) ?? writeTree([])
    }

    private func replacing(in base: ObjectID?, _ changes: [(path: ArraySlice<String>, entry: TreeEntry?)]) throws -> ObjectID? {
        var names: [String] = []
        var byName: [String: [(path: ArraySlice<String>, entry: TreeEntry?)]] = [:]
        for change in changes {
            guard let name = change.path.first else { continue }
            if byName[name] == nil { names.append(name) }
            byName[name, default: []].append((change.path.dropFirst(), change.entry))
        }
        guard !names.isEmpty else { return base }
        let baseTree = try base.map { try tree($0) }
        var isEmpty = false
        let id = try editTree(base: baseTree) { builder in
            for name in names {
                var current = baseTree?.entries.first { $0.name == name }
                // Changes below this name since its last replacement as a whole.
                var below: [(path: ArraySlice<String>, entry: TreeEntry?)] = []
                for change in byName[name] ?? [] {
                    if change.path.isEmpty {
                        below = []
                        current = change.entry.map { entry in
                            var entry = entry
                            entry.name = name
                            return entry
                        }
                    } else {
                        below.append(change)
                    }
                }
                if !below.isEmpty {
                    let child = try replacing(in: current?.isTree == true ? current?.id : nil, below)
                    current = child.map { TreeEntry(name: name, mode: .tree, id: $0) }
                }
                if let current { try builder.insert(current) } else { try builder.remove(name) }
            }
            isEmpty = builder.count == 0
        }
        return isEmpty ? nil : id
    }

    private func editTree(base: Tree?, _ edit: (TreeBuilder) throws -> Void) throws -> ObjectID {
        var builder: OpaquePointer?
        try check(git_treebuilder_new(&builder, pointer, base?.pointer), "building a tree")
        guard let builder else { throw GitError(code: .other(-1), message: "", context: "building a tree") }
        defer { git_treebuilder_free(builder) }
        try edit(TreeBuilder(pointer: builder))
        var oid = git_oid()
        try check(git_treebuilder_write(&oid, builder), "writing a tree")
        return ObjectID(oid)
    }
}

/// Borrowed view of a libgit2 tree builder, valid only inside `editTree`.
struct TreeBuilder {
    let pointer: OpaquePointer

    func insert(_ entry: TreeEntry) throws {
        var oid = entry.id.raw
        try check(git_treebuilder_insert(nil, pointer, entry.name, &oid, entry.mode.git), "adding '\(entry.name)' to a tree")
    }

    func remove(_ name: String) throws {
        let rc = git_treebuilder_remove(pointer, name)
        if rc == GIT_ENOTFOUND.rawValue { return }
        try check(rc, "removing '\(name)' from a tree")
    }

    var count: Int { Int(git_treebuilder_entrycount(pointer)) }
}
