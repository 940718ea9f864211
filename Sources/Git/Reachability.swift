import CGit2

extension Repository {
    /// Whether any of `ids` is reachable: from a ref (branches, tags, remotes, notes,
    /// stash), HEAD, or the index, through commits and their trees. Each tree is read once,
    /// however many commits share it, and the walk stops at the first hit. For deciding
    /// that objects may be deleted, so every ref counts; reflogs do not (as `git gc
    /// --prune=now`).
    public func reachesAny(_ ids: Set<ObjectID>) throws -> Bool {
        guard !ids.isEmpty else { return false }
        if try index().entryIDs().contains(where: ids.contains) { return true }
        var walk: OpaquePointer?
        try check(git_revwalk_new(&walk, pointer), "walking history")
        defer { git_revwalk_free(walk) }
        for name in try referenceNames(matching: "*") {
            var target = git_oid()
            var object: OpaquePointer?
            guard git_reference_name_to_id(&target, pointer, name) == 0,
                git_object_lookup(&object, pointer, &target, GIT_OBJECT_ANY) == 0
            else { continue }
            defer { git_object_free(object) }
            var peeled: OpaquePointer?
            if git_object_peel(&peeled, object, GIT_OBJECT_COMMIT) == 0 {
                git_object_free(peeled)
                var oid = git_object_id(object).pointee
                // A tag's target is pushed through the tag; errors (a ref to a tree) skip it.
                _ = git_revwalk_push(walk, &oid)
            } else if let id = git_object_id(object), ids.contains(ObjectID(id)) {
                return true
            }
        }
        _ = git_revwalk_push_head(walk)
        var seenTrees = Set<ObjectID>()
        var oid = git_oid()
        while git_revwalk_next(&oid, walk) == 0 {
            let commit = try self.commit(ObjectID(oid))
            if try treeReaches(commit.treeID, ids, seen: &seenTrees) { return true }
        }
        return false
    }

    private func treeReaches(_ tree: ObjectID, _ ids: Set<ObjectID>, seen: inout Set<ObjectID>) throws -> Bool {
        guard seen.insert(tree).inserted else { return false }
        if ids.contains(tree) { return true }
        for entry in try self.tree(tree).entries {
            if entry.isTree {
                if try treeReaches(entry.id, ids, seen: &seen) { return true }
            } else if ids.contains(entry.id) {
                return true
            }
        }
        return false
    }
}
