import Crypto
import Foundation
import Git
import ModelFormat
import SystemIO

/// Reads tensors from Git objects: straight from mv's packs where a blob lies there in
/// stored deflate blocks (no copy, no inflating: libgit2 would copy it out block by block and
/// check zlib's Adler-32 on the way, ~40% of an export's time), else through libgit2. The
/// fast path skips only zlib's checksum, so it is taken only where the tensor's SHA-256 is
/// checked over the same bytes, or was just checked. A blob that is a Git LFS pointer stands
/// for its object in the LFS store, read from a map of that file (`LFSObjects`).
final class PackReader: TensorReader {
    let objects: ObjectDatabase
    let state: StateFiles
    let lfs: LFSObjects
    /// The repository's packs as they were when the reader was made.
    let locator: StoredBlobLocator?
    /// Read once, when a comparison first needs it.
    private lazy var verified = VerifiedTensors(state)

    init(objects: ObjectDatabase, state: StateFiles, lfs: LFSObjects) {
        self.objects = objects
        self.state = state
        self.lfs = lfs
        locator = try? StoredBlobLocator(objects)
    }

    /// Calls `body` with the blob's content, in order, in pieces: from its pack where it is
    /// stored that way, else from libgit2's buffer. Callers check each tensor's SHA-256,
    /// which catches altered bytes either way.
    func withContentPieces<T>(_ id: ObjectID, _ body: ([UnsafeRawBufferPointer]) throws -> T) throws -> T {
        let stored = locator?.locate(id)
        if Self.mayBePointer(stored), let bytes = try lfs.withObjectBytes(id, { try body([$0]) }) {
            return bytes
        }
        if let stored {
            return try withExtendedLifetime(stored) { try body(stored.segments.map { stored.bytes($0) }) }
        }
        return try objects.withBlobBytes(id) { try body([$0]) }
    }

    /// Whether a blob the locator found (or did not: nil) may be an LFS pointer. Pointers are
    /// small: a bigger blob is its own bytes, known without reading it.
    static func mayBePointer(_ stored: StoredBlob?) -> Bool {
        stored.map { $0.size < LFSPointer.maximumSize } ?? true
    }

    /// What `id` stands for, whole in memory.
    func contentData(_ id: ObjectID) throws -> Data {
        try withContentPieces(id) { pieces in pieces.reduce(into: Data()) { $0.append(contentsOf: $1) } }
    }

    /// Maps of the LFS objects the pointers among `tensors`' blobs stand for, fetching the
    /// missing ones at once first.
    private func lfsRegions(_ tensors: [[ObjectID]?]) throws -> [ObjectID: MappedRegion] {
        let blobs = tensors.flatMap { $0 ?? [] }.filter { Self.mayBePointer(locator?.locate($0)) }
        try lfs.fetchMissing(blobs)
        var regions: [ObjectID: MappedRegion] = [:]
        for blob in blobs where regions[blob] == nil {
            if let pointer = try lfs.pointer(blob), let region = try lfs.map(pointer) { regions[blob] = region }
        }
        return regions
    }

    // MARK: Digests

    /// Tensors whose blobs all lie in packs as stored blocks are hashed on every core, read
    /// straight from the packs; the others one after another through libgit2, whose objects
    /// are not shared between threads here.
    func digests(_ tensors: [[ObjectID]?]) throws -> [String?] {
        final class Digests: @unchecked Sendable {
            let lock = NSLock()
            var values: [String?]
            init(_ count: Int) { values = Array(repeating: nil, count: count) }
        }
        let digests = Digests(tensors.count)
        let regions = try lfsRegions(tensors)
        if locator != nil || !regions.isEmpty {
            let locator = locator
            DispatchQueue.concurrentPerform(iterations: tensors.count) { index in
                guard let blobs = tensors[index] else { return }
                // The tensor after the one the other core is on, so the disk keeps reading.
                if index + 2 < tensors.count, let next = tensors[index + 2]?.first { locator?.readAhead(next) }
                var hasher = SHA256()
                for (position, blob) in blobs.enumerated() {
                    if let region = regions[blob] {
                        region.willReadSequentially()
                        hasher.update(bufferPointer: UnsafeRawBufferPointer(region.bytes))
                        continue
                    }
                    if position + 1 < blobs.count { locator?.readAhead(blobs[position + 1]) }
                    // One not stored that way: left for libgit2 below.
                    guard let stored = locator?.locate(blob) else { return }
                    withExtendedLifetime(stored) {
                        for segment in stored.segments { hasher.update(bufferPointer: stored.bytes(segment)) }
                    }
                }
                let digest = ContentHash.hex(hasher.finalize())
                digests.lock.lock()
                digests.values[index] = digest
                digests.lock.unlock()
            }
        }
        var values = digests.values
        for (index, blobs) in tensors.enumerated() where values[index] == nil {
            if let blobs { values[index] = try libgit2Digest(of: blobs) }
        }
        return values
    }

    /// SHA-256 of a tensor's blobs read through libgit2, one blob in memory at a time.
    private func libgit2Digest(of blobs: [ObjectID]) throws -> String {
        var hasher = SHA256()
        for blob in blobs {
            try withContentPieces(blob) { pieces in for piece in pieces { hasher.update(bufferPointer: piece) } }
        }
        return ContentHash.hex(hasher.finalize())
    }

    func verify(_ tensors: [(record: Manifest.TensorRecord, blobs: [ObjectID])]) throws -> [String?] {
        let digests = try digests(tensors.map(\.blobs))
        VerifiedTensors.remember(
            zip(tensors, digests).compactMap { tensor, digest in
                digest == tensor.record.sha256 ? (tensor.record.sha256, tensor.blobs) : nil
            }, state: state)
        return digests
    }

    // MARK: Files

    func write(_ blobs: [ObjectID], to url: URL, checked: Bool) throws {
        let writer = try DirectFileWriter(creating: url)
        for (position, blob) in blobs.enumerated() {
            if checked {
                if position + 1 < blobs.count { locator?.readAhead(blobs[position + 1]) }
                try withContentPieces(blob) { pieces in
                    for piece in pieces { try writer.write(piece) }
                }
            } else if let pointer = try lfs.pointer(blob) {
                // Nothing checks a file's bytes on the way: its SHA-256 is its name.
                let sound = try lfs.withObjectBytes(blob) { bytes -> Bool in
                    try writer.write(bytes)
                    return ContentHash.sha256(bytes: bytes) == pointer.oid
                }
                guard sound == true else {
                    throw TensorStoreError(
                        "the LFS object \(pointer) in '\(lfs.store.root.path)' holds other bytes; the store was altered",
                        hint: "delete '\(lfs.store.url(of: pointer.oid).path)' and run 'mv pull' to fetch it again")
                }
            } else {
                // libgit2 checks zlib's Adler-32 of what it inflates.
                try objects.withBlobBytes(blob) { try writer.write($0) }
            }
        }
        try writer.finish(sync: false)
    }

    func values(_ tensor: LabeledTensor) throws -> (header: NpyHeader, values: [Double]) {
        let record = tensor.record
        let data = try tensor.blobs.reduce(into: Data()) { $0.append(try contentData($1)) }
        guard ContentHash.sha256(data) == record.sha256 else {
            throw TensorStoreError(
                "tensor '\(record.name)' of \(tensor.label) does not match its sha256 in the manifest; the file was altered",
                hint: "restore it with 'mv checkout \(tensor.spelled) --force'")
        }
        do {
            let (header, values) = try Npy.values(from: data, fileName: record.file)
            return (header, values)
        } catch {
            throw TensorStoreError("\(error)")
        }
    }

    // MARK: Comparison

    func change(from old: LabeledTensor, to new: LabeledTensor) throws -> TensorChange {
        if let change = try pairedChange(
            name: new.record.name, old: old.record, new: new.record, oldBlobs: old.blobs, newBlobs: new.blobs,
            labels: (old.label, new.label), verified: verified)
        {
            return change
        }
        // Streamed in step, so two multi-GiB embeddings need a few MiB, not their size in Doubles.
        let a = try StoredTensorReader(read: contentData, tensor: old)
        let b = try StoredTensorReader(read: contentData, tensor: new)
        var sums = ChangeSums()
        while let x = try a.next(1 << 18) {
            guard let y = try b.next(x.count), y.count == x.count else {
                throw TensorStoreError("tensor '\(new.record.name)' holds fewer values in \(new.label) than its shape says")
            }
            x.withUnsafeBufferPointer { xs in y.withUnsafeBufferPointer { ys in sums.add(old: xs, new: ys) } }
        }
        try a.finish()
        try b.finish()
        return sums.change
    }
}
