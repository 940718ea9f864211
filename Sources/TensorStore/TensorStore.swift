// TensorStore: everything that turns tensor bytes into stored objects and back. It plans
// how the tensors of .safetensors/.npy inputs become .npy files (one per tensor, in chunks
// above 64 MiB), stores them — finding the tensors unchanged since the previous version
// without hashing where it can — reads them back as bytes, digests or values, writes them
// to files, assembles chunked tensors in the work tree and measures how two versions of a
// tensor differ. It keeps its local caches under `.git/mv/` (`StateFiles`). Registry calls
// only the `TensorStore` and `TensorReader` protocols below; `PackTensorStore` implements
// them, keeping new tensor bytes either as Git blobs in mv's packs or, with LFS storage, as
// Git LFS objects whose pointers go into the pack instead (`LFS/`). It must not know versions, stages, tags or commits: it never moves a ref, writes a
// commit or reads `.mv.yaml`, and it prints nothing (progress goes to a callback).

import Foundation
import Git
import ModelFormat
import SystemIO

/// Where new tensors' bytes go: Git blobs (the default), or Git LFS objects with a pointer
/// blob at the tensor's path (`storage: lfs` in `.mv.yaml`).
public enum TensorStorage: String, Sendable, CaseIterable {
    case git, lfs
}

/// Where a repository's tensor bytes are kept, and how they get there.
public protocol TensorStore: AnyObject {
    /// Reads every planned tensor once and stores what is new, keeping the blobs of tensors
    /// whose bytes equal the previous version's. Nothing is visible to Git unless every
    /// input was read whole and unchanged.
    func store(_ request: StoreRequest) throws -> StoreOutcome

    /// Stores one small `.npy` file mv wrote itself (a built-in trainer's parameter) as it
    /// is, and describes it for the manifest.
    func storeFile(_ npyFile: URL, name: String, file: String?, dtype: DType?) throws -> (record: Manifest.TensorRecord, blob: ObjectID)

    /// A reader of the tensors stored now.
    func reader() -> any TensorReader

    /// Which blobs are Git LFS pointers, their objects in the local LFS store, and how
    /// missing ones are fetched (any store reads both kinds).
    var lfsObjects: LFSObjects { get }

    /// Removes what stores of processes that were killed left behind (a half-written pack);
    /// returns the bytes freed.
    func removeAbandonedFiles() -> Int64

    /// Says the version this process stored tensors for is published: what it stored is now
    /// referred to by a commit.
    func published()

    /// Says the command that stored tensors is ending: what it stored for a version it did not
    /// publish (it failed after storing) is deleted. Nothing once `published()` was called.
    func finished()
}

/// What `TensorStore.store` needs.
public struct StoreRequest {
    /// The inputs' tensors, planned (headers read and checked) on another thread meanwhile.
    public var plans: Background<PlannedWeights>
    /// The model's tensors in the previous version, read on the caller's thread (libgit2
    /// handles stay where they were opened) while the store loads its caches.
    public var previous: () throws -> [String: PreviousTensor]
    /// A folder of the caller's for files being prepared (work-tree copies).
    public var staging: URL
    /// Bytes handled so far, of how many: from (0, total) once the inputs are planned to
    /// (total, total).
    public var progress: ((_ done: Int64, _ total: Int64) -> Void)?

    public init(
        plans: Background<PlannedWeights>, previous: @escaping () throws -> [String: PreviousTensor], staging: URL,
        progress: ((_ done: Int64, _ total: Int64) -> Void)? = nil
    ) {
        self.plans = plans
        self.previous = previous
        self.staging = staging
        self.progress = progress
    }
}

/// What the previous version of the model holds for a tensor, and whether its work-tree file
/// can stand in for its stored bytes (the model folder is clean, so the file is the
/// committed one).
public struct PreviousTensor: Sendable {
    public let record: Manifest.TensorRecord
    /// What Git holds for it: the blob, or the chunk blobs in order.
    public let blobs: [ObjectID]
    /// The work-tree file, when trusted to hold exactly the committed bytes.
    public let workFile: URL?

    public init(record: Manifest.TensorRecord, blobs: [ObjectID], workFile: URL?) {
        self.record = record
        self.blobs = blobs
        self.workFile = workFile
    }
}

/// A tensor after `store`: its manifest record and what to commit for it.
public struct IngestedTensor: Sendable {
    public let record: Manifest.TensorRecord
    /// The blob, or chunk blobs in order.
    public let blobs: [ObjectID]
    /// The .npy written for the work tree (nil when the bytes were stored before).
    public let stagedFile: URL?
    /// The work-tree file already holds exactly these bytes.
    public var inPlace = false
    /// A chunked tensor whose work-tree file holds `patchBase` and gets `patches` written
    /// over it in place.
    public var patchBase: [ObjectID]?
    public var patches: [AssembledFile.Patch] = []
    /// The record's SHA-256 was computed from exactly these blobs' bytes (here or, for an
    /// input-cache hit, when the input was first stored), not carried over from a manifest.
    var hashedFromBlobs = false

    init(record: Manifest.TensorRecord, blobs: [ObjectID], stagedFile: URL?, inPlace: Bool = false, hashedFromBlobs: Bool = false) {
        self.record = record
        self.blobs = blobs
        self.stagedFile = stagedFile
        self.inPlace = inPlace
        self.hashedFromBlobs = hashedFromBlobs
    }
}

/// What `store` did.
public struct StoreOutcome {
    public var tensors: [IngestedTensor]
    /// Bytes of new objects written.
    public var storedBytes: UInt64
    /// The store's caches of what was read, written meanwhile: the commit need not wait for
    /// them (~3 ms); wait before the process ends.
    public var cacheWrites: Background<Void>
}

/// Reads stored tensors. Each tensor is named by what Git holds for it (its blob, or its
/// chunk blobs in order) and checked against the SHA-256 its manifest records wherever
/// its bytes are used, so an altered object fails loudly.
public protocol TensorReader {
    /// Each tensor's SHA-256 from its stored bytes (nil for nil), on every core.
    func digests(_ tensors: [[ObjectID]?]) throws -> [String?]

    /// The same, remembering the tensors whose digest matches their record (so that later
    /// reads may trust their manifest figures).
    func verify(_ tensors: [(record: Manifest.TensorRecord, blobs: [ObjectID])]) throws -> [String?]

    /// Writes the tensor's .npy to `url` (replacing it) around the page cache. `checked`:
    /// its SHA-256 was verified just before, so the bytes may be read without checks of
    /// their own.
    func write(_ blobs: [ObjectID], to url: URL, checked: Bool) throws

    /// The tensor's values, checked against its record.
    func values(_ tensor: LabeledTensor) throws -> (header: NpyHeader, values: [Double])

    /// How a tensor changed between two versions (same dtype and shape), checked against
    /// both records.
    func change(from old: LabeledTensor, to new: LabeledTensor) throws -> TensorChange

    /// Writes a safetensors file of `tensors` after `header` (a JSON header laid out for
    /// them, in this order), checking each tensor's SHA-256 and, when given, the whole
    /// file's; nothing appears at `url` unless every check passed.
    func writeSafetensors(
        header: Data, tensors: [LabeledTensor], fileSHA256: String?, to url: URL,
        progress: ((Int64, Int64) -> Void)?) throws
}

/// A stored tensor with the names a message about it needs.
public struct LabeledTensor: Sendable {
    public let record: Manifest.TensorRecord
    public let blobs: [ObjectID]
    /// The version it belongs to, e.g. `churn@v3.0.0`.
    public let label: String
    /// How the user named that version (for the hint that restores it).
    public let spelled: String

    public init(record: Manifest.TensorRecord, blobs: [ObjectID], label: String, spelled: String) {
        self.record = record
        self.blobs = blobs
        self.label = label
        self.spelled = spelled
    }
}

/// The figures `mv diff` prints for a changed tensor.
public struct TensorChange: Sendable, Equatable {
    public let maxAbsoluteChange: Double
    public let relativeL2Change: Double?
    public let cosineSimilarity: Double?
}

/// A failure of the store that a person reads (see `UserError`).
public struct TensorStoreError: UserError, Sendable {
    public let message: String
    public let hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
}
