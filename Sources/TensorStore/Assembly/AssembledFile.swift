import Foundation
import Git

/// The work-tree `.npy` of a tensor stored in chunks: Git holds the chunks (index entries
/// with the skip-worktree bit), the work tree holds their concatenation, which `numpy.load`
/// reads and the model folder's `.gitignore` hides from Git.
public struct AssembledFile: Sendable, Equatable {
    public var path: String
    public var chunks: [ObjectID]
    /// mv's staging copy to move into place; nil to keep the file there (when intact) or
    /// assemble it from the chunk blobs.
    public var source: URL?
    /// Set when only some chunks changed: the chunks the work-tree file holds now, and the
    /// new chunks' bytes to write over it in place (a 4 GiB tensor with one changed row is
    /// then 32 MiB of writes, not 4 GiB). If the file is no longer intact, it is assembled
    /// from the chunk blobs instead.
    public var base: [ObjectID]?
    public var patches: [Patch] = []

    /// Bytes staged in `source` to write at `offset` of the work-tree file.
    public struct Patch: Sendable, Equatable {
        public var offset: Int
        public var source: URL
    }

    public init(path: String, chunks: [ObjectID], source: URL?) {
        self.path = path
        self.chunks = chunks
        self.source = source
    }
}
