import Foundation
import Git
import TensorStore

/// Moves Git LFS objects between the local store and a remote's.
protocol LFSTransfer {
    /// Sends the objects of `pointers` the remote lacks; what it has already costs nothing
    /// more than asking. Returns how many objects and bytes were sent.
    func upload(_ pointers: [LFSPointer], from store: LFSObjectStore, progress: TransferProgress?) throws -> (objects: Int, bytes: Int64)

    /// Brings the objects of `pointers` into `store`, each checked against its SHA-256
    /// before it enters. Returns how many objects and bytes were received.
    func download(_ pointers: [LFSPointer], into store: LFSObjectStore, progress: TransferProgress?) throws -> (objects: Int, bytes: Int64)

    /// Those of `pointers` whose objects the remote does not have.
    func lacking(_ pointers: [LFSPointer]) throws -> [LFSPointer]
}

/// Bytes moved so far, of how many.
typealias TransferProgress = (_ done: Int64, _ total: Int64) -> Void

/// A remote on this machine (a path or `file://` URL): objects are copied to and from its
/// git directory's `lfs/objects`, where git-lfs's standalone file transfer keeps them.
struct DirectoryTransfer: LFSTransfer {
    let remote: LFSObjectStore

    init(root: URL) {
        remote = LFSObjectStore(root: root)
    }

    func upload(_ pointers: [LFSPointer], from store: LFSObjectStore, progress: TransferProgress?) throws -> (objects: Int, bytes: Int64) {
        try copy(pointers.filter { !remote.contains($0) }, from: store, to: remote, progress: progress)
    }

    func lacking(_ pointers: [LFSPointer]) throws -> [LFSPointer] {
        pointers.filter { !remote.contains($0) }
    }

    func download(_ pointers: [LFSPointer], into store: LFSObjectStore, progress: TransferProgress?) throws -> (objects: Int, bytes: Int64)
    {
        let missing = pointers.filter { !store.contains($0) }
        if let absent = missing.first(where: { !remote.contains($0) }) {
            throw MVError(
                "the remote's LFS store '\(remote.root.path)' lacks the object \(absent) (\(missing.filter { !remote.contains($0) }.count) missing)",
                hint: "push it from a clone that has it: mv push (or git lfs push --all)")
        }
        return try copy(missing, from: remote, to: store, progress: progress)
    }

    /// Copies each object through a temporary file of the target, checked on the way in.
    private func copy(_ pointers: [LFSPointer], from source: LFSObjectStore, to target: LFSObjectStore, progress: TransferProgress?) throws
        -> (
            objects: Int, bytes: Int64
        )
    {
        let total = pointers.reduce(Int64(0)) { $0 + Int64($1.size) }
        var done: Int64 = 0
        progress?(0, total)
        for pointer in pointers {
            let partial = try target.partialDownload(of: pointer)
            try? FileManager.default.removeItem(at: partial)
            do {
                try FileManager.default.copyItem(at: source.url(of: pointer.oid), to: partial)
            } catch {
                throw MVError("cannot copy the LFS object \(pointer) to '\(target.root.path)': \(error.localizedDescription)")
            }
            try target.adopt(partial.path, as: pointer)
            done += Int64(pointer.size)
            progress?(done, total)
        }
        return (pointers.count, total)
    }
}
