import Crypto
import Foundation
import Git
import ModelFormat

/// Sums over pairs of old and new values from which `mv diff` reports a tensor's change: the
/// largest absolute difference, the squared norm of the difference, the dot product and the
/// squared norms of both sides.
struct ChangeSums: Sendable {
    var maxDelta = 0.0
    var deltaSquares = 0.0
    var dot = 0.0
    var oldSquares = 0.0
    var newSquares = 0.0

    /// Adds `old[i]`, `new[i]` pairs. Each call sums into fresh locals first, so the error of
    /// a running sum grows with the number of calls rather than of values.
    mutating func add(old: UnsafeBufferPointer<Double>, new: UnsafeBufferPointer<Double>) {
        let count = Swift.min(old.count, new.count)
        var block = ChangeSums()
        for index in 0..<count { block.pair(old[index], new[index]) }
        merge(block)
    }

    /// Decodes the whole elements of `old` and `new` (the same number of bytes of
    /// little-endian `dtype`) and adds them, a block of values at a time.
    mutating func add(old: UnsafeRawBufferPointer, new: UnsafeRawBufferPointer, dtype: DType) {
        let size = dtype.itemSize
        let values = 1 << 16
        let end = Swift.min(old.count, new.count) / size * size
        var start = 0
        // float32 is most weights: decoded in the loop rather than into arrays first.
        if dtype == .float32 {
            while start < end {
                let count = Swift.min(values * size, end - start)
                var block = ChangeSums()
                for offset in stride(from: start, to: start + count, by: 4) {
                    block.pair(
                        Double(Float(bitPattern: UInt32(littleEndian: old.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))),
                        Double(Float(bitPattern: UInt32(littleEndian: new.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))))
                }
                merge(block)
                start += count
            }
            return
        }
        var x: [Double] = []
        var y: [Double] = []
        x.reserveCapacity(values)
        y.reserveCapacity(values)
        while start < end {
            let count = Swift.min(values * size, end - start)
            x.removeAll(keepingCapacity: true)
            y.removeAll(keepingCapacity: true)
            dtype.appendValues(of: UnsafeRawBufferPointer(rebasing: old[start..<(start + count)]), to: &x)
            dtype.appendValues(of: UnsafeRawBufferPointer(rebasing: new[start..<(start + count)]), to: &y)
            x.withUnsafeBufferPointer { xs in y.withUnsafeBufferPointer { ys in add(old: xs, new: ys) } }
            start += count
        }
    }

    @inline(__always)
    private mutating func pair(_ x: Double, _ y: Double) {
        let delta = y - x
        maxDelta = Swift.max(maxDelta, abs(delta))
        deltaSquares += delta * delta
        dot += x * y
        oldSquares += x * x
        newSquares += y * y
    }

    mutating func merge(_ other: ChangeSums) {
        maxDelta = Swift.max(maxDelta, other.maxDelta)
        deltaSquares += other.deltaSquares
        dot += other.dot
        oldSquares += other.oldSquares
        newSquares += other.newSquares
    }

    /// The figures `mv diff` prints.
    var change: TensorChange {
        let norms = (oldSquares * newSquares).squareRoot()
        return TensorChange(
            maxAbsoluteChange: maxDelta, relativeL2Change: oldSquares > 0 ? (deltaSquares / oldSquares).squareRoot() : nil,
            cosineSimilarity: norms > 0 ? Swift.min(1, Swift.max(-1, dot / norms)) : nil)
    }
}

extension PackReader {
    /// Bytes of each side in memory at once when tensors are read whole.
    static let comparisonWindow = 8 << 20

    /// The change between two versions of a tensor stored with the same layout (one blob
    /// each, or chunks of the same size), walking their blobs in pairs: both read straight
    /// from the packs where they lie as stored blocks, hashed and summed on every core.
    ///
    /// Chunks with the same blob id hold the same bytes, so when some are shared only the
    /// others are read: over shared chunks old and new values are equal, add nothing to the
    /// difference, and their part of the dot product is their part of the squared norm — the
    /// manifest's `l2_norm` squared minus the part of the chunks read. (A fine-tune touching
    /// a few rows of a 1 GiB embedding: 3.8 s before, 0.18 s.) That needs the manifests'
    /// figures to be those of these blobs: only pairs mv has seen agree (`VerifiedTensors`)
    /// take it, and the chunks read are checked against their blob ids (collision-detecting
    /// SHA-1). Otherwise both tensors are read whole and checked against their SHA-256.
    ///
    /// With more than a third of the chunks differing, both are read whole anyway (checking
    /// chunk ids costs more than the SHA-256 of the rest). nil where the layouts differ or
    /// elements would straddle chunks: the caller then decodes both tensors as streams.
    func pairedChange(
        name: String, old: Manifest.TensorRecord, new: Manifest.TensorRecord,
        oldBlobs: [ObjectID], newBlobs: [ObjectID], labels: (String, String),
        verified: VerifiedTensors
    ) throws -> TensorChange? {
        guard old.bytes == new.bytes, old.dtype == new.dtype, old.shape == new.shape, let dtype = DType(rawValue: old.dtype),
            oldBlobs.count == newBlobs.count, !oldBlobs.isEmpty
        else { return nil }
        let size = dtype.itemSize
        let chunk: Int
        if oldBlobs.count == 1 {
            chunk = old.bytes
        } else {
            guard let bytes = old.chunkBytes, bytes == new.chunkBytes, bytes % size == 0,
                oldBlobs.count == (old.bytes + bytes - 1) / bytes
            else { return nil }
            chunk = bytes
        }

        // Where elements start: both headers must agree, and leave elements whole in every chunk.
        let oldHeader = try header(of: oldBlobs[0], record: old, label: labels.0)
        let newHeader = oldBlobs[0] == newBlobs[0] ? oldHeader : try header(of: newBlobs[0], record: new, label: labels.1)
        guard oldHeader.headerLength == newHeader.headerLength, oldHeader.headerLength % size == 0,
            oldHeader.headerLength <= chunk
        else { return nil }
        let dataStart = oldHeader.headerLength

        let differing = oldBlobs.indices.filter { oldBlobs[$0] != newBlobs[$0] }
        // Checking a chunk's id (sha1dc, ~390 MB/s here) costs about four times its SHA-256:
        // with more than a third of the chunks differing, reading all is faster.
        // Chunks kept as LFS objects are named by their SHA-256, not by a blob id to check.
        let shortcut =
            try (oldBlobs + newBlobs).allSatisfy({ try lfs.pointer($0) == nil })
            && differing.count * 3 <= oldBlobs.count && old.l2Norm.isFinite && new.l2Norm.isFinite
            && verified.contains(sha256: old.sha256, blobs: oldBlobs) && verified.contains(sha256: new.sha256, blobs: newBlobs)
        let walked = shortcut ? differing : Array(oldBlobs.indices)

        // A chunk is checked against its id whole; otherwise both sides go through in windows,
        // so two 64 MiB blobs need two 8 MiB buffers, not two copies of themselves.
        let window = shortcut ? min(chunk, old.bytes) : min(Self.comparisonWindow, chunk, old.bytes)
        let oldSide = PairedSide(capacity: window)
        let newSide = PairedSide(capacity: window)
        var sums = ChangeSums()
        for index in walked {
            let expected = min(chunk, old.bytes - index * chunk)
            let start = index == 0 ? dataStart : 0
            try withContentPieces(oldBlobs[index]) { oldPieces in
                try withContentPieces(newBlobs[index]) { newPieces in
                    for (pieces, label) in [(oldPieces, labels.0), (newPieces, labels.1)] {
                        let count = pieces.reduce(0) { $0 + $1.count }
                        guard count == expected else {
                            throw TensorStoreError(
                                "tensor '\(name)' of \(label) has a \(oldBlobs.count > 1 ? "chunk" : "blob") of \(count) bytes where \(expected) belong; the repository was altered",
                                hint: "run 'mv verify \(label)'")
                        }
                    }
                    oldSide.begin(oldPieces)
                    newSide.begin(newPieces)
                    var offset = 0
                    while offset < expected {
                        let count = min(window, expected - offset)
                        // Each side copied into its buffer (stored blocks split elements) and hashed, at once.
                        let work = [
                            PieceWork(side: oldSide, id: shortcut ? oldBlobs[index] : nil),
                            PieceWork(side: newSide, id: shortcut ? newBlobs[index] : nil),
                        ]
                        DispatchQueue.concurrentPerform(iterations: work.count) { which in
                            work[which].side.fill(count, checking: work[which].id)
                        }
                        // Summed in two halves, one per core.
                        let first = min(count, max(start, offset) - offset)
                        let elements = (count - first) / size
                        let middle = first + elements / 2 * size
                        let halves = [first..<middle, middle..<(first + elements * size)]
                        let partial = PartialSums(count: halves.count)
                        DispatchQueue.concurrentPerform(iterations: halves.count) { half in
                            var block = ChangeSums()
                            block.add(
                                old: UnsafeRawBufferPointer(rebasing: oldSide.bytes[halves[half]]),
                                new: UnsafeRawBufferPointer(rebasing: newSide.bytes[halves[half]]), dtype: dtype)
                            partial.set(half, block)
                        }
                        // In order, so the same versions always print the same figures.
                        for block in partial.parts { sums.merge(block) }
                        offset += count
                    }
                }
            }
            for (side, label) in [(oldSide, labels.0), (newSide, labels.1)] where !side.idMatches {
                throw TensorStoreError(
                    "tensor '\(name)' of \(label) has a chunk whose bytes do not match its blob id; the repository was altered",
                    hint: "run 'mv verify \(label)' and restore the repository from a clone")
            }
        }

        if shortcut {
            let oldTotal = old.l2Norm * old.l2Norm
            let newTotal = new.l2Norm * new.l2Norm
            sums.dot += Swift.max(0, oldTotal - sums.oldSquares)
            sums.oldSquares = oldTotal
            sums.newSquares = newTotal
        } else {
            for (side, record, label) in [(oldSide, old, labels.0), (newSide, new, labels.1)] where side.digest() != record.sha256 {
                throw TensorStoreError(
                    "tensor '\(record.name)' of \(label) does not match its sha256 in the manifest; the file was altered",
                    hint: "run 'mv verify \(label)'")
            }
            VerifiedTensors.remember([(old.sha256, oldBlobs), (new.sha256, newBlobs)], state: state)
        }
        return sums.change
    }

    /// The .npy header at the start of a tensor's first blob.
    private func header(of blob: ObjectID, record: Manifest.TensorRecord, label: String) throws -> NpyHeader {
        let prefix = 1 << 17
        var head = Data()
        if let stored = locator?.locate(blob, prefix: prefix), !Self.mayBePointer(stored) {
            withExtendedLifetime(stored) { for segment in stored.segments { head.append(contentsOf: stored.bytes(segment)) } }
        } else {
            try withContentPieces(blob) { pieces in
                for piece in pieces where head.count < prefix { head.append(contentsOf: piece.prefix(prefix - head.count)) }
            }
        }
        do {
            let header = try NpyHeader.parse(prefix: head, fileName: record.file, fileSize: record.bytes)
            guard header.dtype.itemSize == DType(rawValue: record.dtype)?.itemSize else { throw TensorStoreError("wrong dtype") }
            return header
        } catch {
            throw TensorStoreError(
                "tensor '\(record.name)' of \(label) does not start with a valid .npy header; the file was altered",
                hint: "run 'mv verify \(label)'")
        }
    }
}

/// One side of a paired walk: the blob being read (its pieces, and how far), the window of
/// it copied into one buffer, the SHA-256 of everything read so far, and whether the last
/// blob checked matched its id.
private final class PairedSide: @unchecked Sendable {
    let bytes: UnsafeMutableRawBufferPointer
    private(set) var idMatches = true
    private var hasher = SHA256()
    private var pieces: [UnsafeRawBufferPointer] = []
    private var piece = 0
    private var within = 0

    init(capacity: Int) {
        bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(capacity, 1), alignment: 64)
    }

    deinit { bytes.deallocate() }

    /// Starts on a blob whose pieces hold as many bytes as the walk expects.
    func begin(_ pieces: [UnsafeRawBufferPointer]) {
        self.pieces = pieces
        piece = 0
        within = 0
    }

    /// Copies the blob's next `count` bytes (at most the capacity) to the start of `bytes`;
    /// with `id`, the window is the whole blob and is checked against it, else it is hashed.
    func fill(_ count: Int, checking id: ObjectID?) {
        guard let target = bytes.baseAddress else { return }
        var filled = 0
        while filled < count, piece < pieces.count {
            let source = pieces[piece]
            let take = min(count - filled, source.count - within)
            if let base = source.baseAddress, take > 0 { memcpy(target + filled, base + within, take) }
            filled += take
            within += take
            if within == source.count {
                piece += 1
                within = 0
            }
        }
        let window = UnsafeRawBufferPointer(rebasing: bytes[..<filled])
        if let id {
            idMatches = (try? ObjectDatabase.blobID(of: window)) == id
        } else {
            hasher.update(bufferPointer: window)
        }
    }

    func digest() -> String { ContentHash.hex(hasher.finalize()) }
}

/// A side for another thread to fill; its pieces stay valid while it runs.
private struct PieceWork: @unchecked Sendable {
    let side: PairedSide
    let id: ObjectID?
}

/// Partial sums from several threads, one slot each.
private final class PartialSums: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var parts: [ChangeSums]

    init(count: Int) { parts = Array(repeating: ChangeSums(), count: count) }

    func set(_ index: Int, _ sums: ChangeSums) {
        lock.lock()
        parts[index] = sums
        lock.unlock()
    }
}
