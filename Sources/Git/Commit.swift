import CGit2
import Foundation

/// A commit read from the repository.
public struct Commit: Sendable, Equatable {
    public let id: ObjectID
    public let treeID: ObjectID
    public let parentIDs: [ObjectID]
    public let message: String
    public let author: Signature
    public let committer: Signature

    /// The first line of the message.
    public var summary: String { String(message.prefix { $0 != "\n" }) }
}

extension Repository {
    public func commit(_ id: ObjectID) throws -> Commit {
        var commit: OpaquePointer?
        var oid = id.raw
        try check(git_commit_lookup(&commit, pointer, &oid), "reading commit \(id.short)")
        guard let commit else { throw GitError(code: .notFound, message: "", context: "reading commit \(id.short)") }
        defer { git_commit_free(commit) }
        let parents = (0..<git_commit_parentcount(commit)).compactMap { index in
            git_commit_parent_id(commit, index).map { ObjectID($0) }
        }
        return Commit(
            id: id,
            treeID: ObjectID(git_commit_tree_id(commit)),
            parentIDs: parents,
            message: git_commit_message(commit).map { String(cString: $0) } ?? "",
            author: Signature(git_commit_author(commit)),
            committer: Signature(git_commit_committer(commit)))
    }

    /// Whether `commit` is `ancestor` or has it in its history.
    public func isDescendant(_ commit: ObjectID, of ancestor: ObjectID) throws -> Bool {
        if commit == ancestor { return true }
        var a = commit.raw
        var b = ancestor.raw
        let rc = git_graph_descendant_of(pointer, &a, &b)
        try check(rc, "walking the history of \(commit.short)")
        return rc == 1
    }

    /// Writes a commit object without moving any reference: the caller publishes it with a
    /// compare-and-swap ref update, so a concurrent writer can never be overwritten.
    public func createCommit(
        tree: ObjectID, parents: [ObjectID], message: String,
        author: Signature, committer: Signature
    ) throws -> ObjectID {
        var treeOid = tree.raw
        var treePointer: OpaquePointer?
        try check(git_tree_lookup(&treePointer, pointer, &treeOid), "reading tree \(tree.short)")
        defer { git_tree_free(treePointer) }

        var parentPointers: [OpaquePointer?] = []
        defer { for parentPointer in parentPointers { git_commit_free(parentPointer) } }
        for parent in parents {
            var oid = parent.raw
            var commit: OpaquePointer?
            try check(git_commit_lookup(&commit, pointer, &oid), "reading parent commit \(parent.short)")
            parentPointers.append(commit)
        }

        var oid = git_oid()
        try author.withGitSignature { authorSig in
            try committer.withGitSignature { committerSig in
                try parentPointers.withUnsafeMutableBufferPointer { parentsBuffer in
                    try check(
                        git_commit_create(
                            &oid, pointer, nil, authorSig, committerSig, "UTF-8", message, treePointer,
                            parentsBuffer.count, parentsBuffer.baseAddress),
                        "creating a commit")
                }
            }
        }
        return ObjectID(oid)
    }
}
