import Foundation
import Git
import ModelFormat
import SystemIO

/// A piece of work: one tensor's whole .npy, or one chunk of it.
struct Unit: Sendable {
    let tensor: Int
    let chunk: Int?
    let range: Range<Int>
    let isLastPiece: Bool
    /// The previous version's SHA-256 of this whole tensor, when equal bytes should keep its blob.
    var previousSHA256: String?
}

/// A unit read and processed by a worker, waiting for the packing thread; owns its buffer
/// until `UnitQueue.release` is called.
struct DoneUnit: @unchecked Sendable {
    enum Kind {
        /// A whole tensor whose SHA-256 equals the previous version's: it keeps that blob.
        case unchanged
        /// A whole tensor: its blob, SHA-256, statistics and fingerprint (when the repository
        /// keeps them), and its work-tree copy.
        case whole(HashedBlob, sha256: String, statistics: TensorStatistics, fingerprint: String?, stagedFile: URL)
        /// One chunk: its blob when new (nil when it equals the previous version's chunk,
        /// whose id is `id`) with its fingerprint, and the tensor's work-tree copy the chunk
        /// was written into, or (a tensor patched in place) the file holding this chunk alone
        /// when it changed.
        case chunk(HashedBlob?, id: ObjectID, fingerprint: String?, stagedFile: URL?, patch: URL?)
    }

    let kind: Kind
    let bytes: UnsafeRawBufferPointer
    let buffer: AnonymousMemory?
    let cost: Int
    /// The source mapping `bytes` points into, when it was not read into `buffer`.
    var mapped: MappedSource? = nil
    /// Set while the worker still writes the work-tree copy from `buffer`.
    var write: SharedBuffer?
    /// The LFS pointer the unit's blob holds (LFS storage), kept until it is packed.
    var pointer: PointerBytes? = nil
}

/// An LFS pointer's text in memory of its own, which a `HashedBlob` of it points into.
final class PointerBytes: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer

    init(_ pointer: LFSPointer) {
        let text = Array(pointer.text.utf8)
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: text.count, alignment: 1)
        memory.copyBytes(from: text)
        bytes = UnsafeRawBufferPointer(memory)
    }

    deinit { bytes.deallocate() }
}

/// A work-tree write handed to the writer thread (it only touches its own file and buffer).
struct UncheckedWrite: @unchecked Sendable {
    let run: () throws -> Void
}

/// A buffer used by two threads at once: the packing thread appends it to the pack while
/// the worker writes the work-tree copy from it. Whichever finishes last returns it, so
/// neither waits for the other (the packer waiting for a disk write held up the pack).
final class SharedBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var users = 2

    /// True for the last of the two to be done with the buffer.
    func done() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        users -= 1
        return users == 0
    }
}
