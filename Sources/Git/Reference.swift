import CGit2
import Foundation

/// What HEAD points at: a branch (possibly unborn, i.e. without commits yet) or a commit.
public struct Head: Sendable, Equatable {
    /// `refs/heads/<branch>`, or `HEAD` itself when detached.
    public let referenceName: String
    /// The tip commit, nil on an unborn branch.
    public let target: ObjectID?

    public var branchName: String? {
        referenceName.hasPrefix("refs/heads/") ? String(referenceName.dropFirst("refs/heads/".count)) : nil
    }
}

extension Repository {
    public func head() throws -> Head {
        var ref: OpaquePointer?
        try check(git_reference_lookup(&ref, pointer, "HEAD"), "reading HEAD")
        defer { git_reference_free(ref) }
        if git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC, let target = git_reference_symbolic_target(ref) {
            let name = String(cString: target)
            return Head(referenceName: name, target: try referenceTarget(name))
        }
        return Head(referenceName: "HEAD", target: git_reference_target(ref).map { ObjectID($0) })
    }

    /// The object a direct reference points at, nil when the reference does not exist.
    public func referenceTarget(_ name: String) throws -> ObjectID? {
        var oid = git_oid()
        let rc = git_reference_name_to_id(&oid, pointer, name)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check(rc, "reading '\(name)'")
        return ObjectID(oid)
    }

    /// Creates `name` only if it does not exist yet; throws `.exists` otherwise.
    public func createReference(_ name: String, target: ObjectID, logMessage: String) throws {
        var ref: OpaquePointer?
        var oid = target.raw
        try check(git_reference_create(&ref, pointer, name, &oid, 0, logMessage), "creating '\(name)'")
        git_reference_free(ref)
    }

    /// Moves `name` to `target` only if it still points at `expected` (nil: must not exist).
    /// Throws `.modified`/`.exists` when someone else moved it first and `.locked` while
    /// another writer holds it, so the caller can retry from fresh state.
    public func updateReference(_ name: String, to target: ObjectID, expecting expected: ObjectID?, logMessage: String) throws {
        guard let expected else {
            return try createReference(name, target: target, logMessage: logMessage)
        }
        var ref: OpaquePointer?
        var oid = target.raw
        var current = expected.raw
        try check(git_reference_create_matching(&ref, pointer, name, &oid, 1, &current, logMessage), "updating '\(name)'")
        git_reference_free(ref)
    }

    /// Deletes `name` if it still points at `expected`; used to withdraw a ref that this
    /// process published moments before, never someone else's.
    public func deleteReference(_ name: String, expecting expected: ObjectID) throws {
        var ref: OpaquePointer?
        let rc = git_reference_lookup(&ref, pointer, name)
        if rc == GIT_ENOTFOUND.rawValue { return }
        try check(rc, "reading '\(name)'")
        defer { git_reference_free(ref) }
        guard let current = git_reference_target(ref), ObjectID(current) == expected else { return }
        try check(git_reference_delete(ref), "deleting '\(name)'")
    }

    /// Names of references matching a glob such as `refs/tags/churn@v*`, in sorted order.
    public func referenceNames(matching glob: String) throws -> [String] {
        var iterator: OpaquePointer?
        try check(git_reference_iterator_glob_new(&iterator, pointer, glob), "listing '\(glob)'")
        defer { git_reference_iterator_free(iterator) }
        var names: [String] = []
        while true {
            var name: UnsafePointer<CChar>?
            let rc = git_reference_next_name(&name, iterator)
            if rc == GIT_ITEROVER.rawValue { break }
            try check(rc, "listing '\(glob)'")
            if let name { names.append(String(cString: name)) }
        }
        return names.sorted()
    }

    /// References matching a glob with the object each points at, in one pass (symbolic
    /// references are skipped), sorted by name.
    public func references(matching glob: String) throws -> [(name: String, target: ObjectID)] {
        var iterator: OpaquePointer?
        try check(git_reference_iterator_glob_new(&iterator, pointer, glob), "listing '\(glob)'")
        defer { git_reference_iterator_free(iterator) }
        var result: [(name: String, target: ObjectID)] = []
        while true {
            var ref: OpaquePointer?
            let rc = git_reference_next(&ref, iterator)
            if rc == GIT_ITEROVER.rawValue { break }
            try check(rc, "listing '\(glob)'")
            defer { git_reference_free(ref) }
            guard let target = git_reference_target(ref), let name = git_reference_name(ref) else { continue }
            result.append((String(cString: name), ObjectID(target)))
        }
        return result.sorted { $0.name < $1.name }
    }

    /// Resolves a revision expression (`HEAD~2`, `churn@v1.0.0`, an id) to the commit it names.
    public func resolveCommit(_ revision: String) throws -> ObjectID {
        var object: OpaquePointer?
        try check(git_revparse_single(&object, pointer, revision), "unknown revision '\(revision)'")
        defer { git_object_free(object) }
        var commit: OpaquePointer?
        try check(git_object_peel(&commit, object, GIT_OBJECT_COMMIT), "'\(revision)' does not name a commit")
        defer { git_object_free(commit) }
        return ObjectID(git_object_id(commit))
    }
}
