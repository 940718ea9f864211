import CGit2
import Foundation

/// An annotated tag object: its name, the object it points at, who made it and why.
public struct AnnotatedTag: Sendable, Equatable {
    public let id: ObjectID
    public let name: String
    public let targetID: ObjectID
    public let tagger: Signature?
    public let message: String
}

extension Repository {
    /// Reads the annotated tag object `id`; nil when `id` is some other kind of object
    /// (a lightweight tag points straight at a commit).
    public func annotatedTag(_ id: ObjectID) throws -> AnnotatedTag? {
        var object: OpaquePointer?
        var oid = id.raw
        try check(git_object_lookup(&object, pointer, &oid, GIT_OBJECT_ANY), "reading object \(id.short)")
        defer { git_object_free(object) }
        guard git_object_type(object) == GIT_OBJECT_TAG else { return nil }
        let tag = object
        return AnnotatedTag(
            id: id,
            name: String(cString: git_tag_name(tag)),
            targetID: ObjectID(git_tag_target_id(tag)),
            tagger: git_tag_tagger(tag).map { Signature($0) },
            message: git_tag_message(tag).map { String(cString: $0) } ?? "")
    }

    /// Writes an annotated tag object for `target` without creating its ref; publishing the
    /// ref is a separate create-if-absent step, which is what makes version numbers unique.
    public func createTagObject(name: String, target: ObjectID, tagger: Signature, message: String) throws -> ObjectID {
        var object: OpaquePointer?
        var targetOid = target.raw
        try check(git_object_lookup(&object, pointer, &targetOid, GIT_OBJECT_ANY), "reading object \(target.short)")
        defer { git_object_free(object) }
        var oid = git_oid()
        try tagger.withGitSignature { sig in
            try check(git_tag_annotation_create(&oid, pointer, name, object, sig, message), "creating tag '\(name)'")
        }
        return ObjectID(oid)
    }

    /// Whether `name` is acceptable as a tag name to git (`git check-ref-format`).
    public static func isValidTagName(_ name: String) -> Bool {
        _ = Library.initialized
        var valid: Int32 = 0
        return git_tag_name_is_valid(&valid, name) == 0 && valid == 1
    }
}
