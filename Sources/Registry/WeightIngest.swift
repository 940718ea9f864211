import Crypto
import Foundation
import Git
import ModelFormat
#if canImport(Glibc)
import Glibc
#endif

/// What the previous version of the model holds for a tensor, and whether its work-tree file
/// can stand in for its blobs (the model folder is clean, so the file is the committed one).
struct PreviousTensor: Sendable {
    let record: Manifest.TensorRecord
    /// The blob, or the chunk blobs in order.
    let blobs: [ObjectID]
    /// The work-tree file, when trusted to hold exactly the committed bytes.
    let workFile: URL?
}

/// A tensor after ingest: its manifest record and how its bytes are stored.
struct IngestedTensor: Sendable {
    let record: Manifest.TensorRecord
    /// The blob, or chunk blobs in order.
    let blobs: [ObjectID]
    /// The .npy written for the work tree (nil when the work-tree file already holds it).
    let stagedFile: URL?
}

/// Stores tensors in one pass over their bytes, on every core.
///
/// Each tensor (or chunk of a huge one) is read once into memory; two worker threads compute
/// its blob id (collision-detecting SHA-1), SHA-256 and statistics and write its work-tree
/// copy, while this thread appends new blobs to a single pack in order. Tensors whose bytes
/// equal the previous version's (compared with the work-tree file, which is much faster than
/// hashing) keep their blobs and records without being hashed at all. Memory in flight is
/// bounded (`budget`), whatever the model size.
struct WeightIngest {
    let plans: [TensorPlan]
    let previous: [String: PreviousTensor]
    let staging: URL
    let objects: ObjectDatabase
    var progress: ((Int64) -> Void)?

    static let budget = 128 << 20
    /// One more worker than cores: a worker waiting on its direct write leaves a core to
    /// another (512 MiB on 2 cores: 1.93 s with 2 workers, 1.79 s with 3).
    static var workers: Int { min(8, ProcessInfo.processInfo.activeProcessorCount + 1) }

    struct Outcome {
        var tensors: [IngestedTensor]
        var storedBytes: UInt64
    }

    func run() throws -> Outcome {
        var results = [IngestedTensor?](repeating: nil, count: plans.count)
        var handled: Int64 = 0

        // 1. Unchanged tensors, found by comparing bytes with the trusted work-tree file.
        let unchanged = try findUnchanged()
        for (index, isSame) in unchanged.enumerated() where isSame {
            let plan = plans[index]
            guard let before = previous[plan.name] else { continue }
            results[index] = IngestedTensor(record: Self.renamed(before.record, plan), blobs: before.blobs, stagedFile: nil)
            handled += Int64(plan.size)
        }
        progress?(handled)

        // 2. Everything else, read once: workers hash and summarise, this thread packs.
        let pending = plans.indices.filter { results[$0] == nil }
        var units: [Unit] = []
        for tensor in pending {
            let plan = plans[tensor]
            let pieces = plan.pieces
            for (chunk, range) in pieces.enumerated() {
                units.append(Unit(tensor: tensor, chunk: plan.chunkBytes == nil ? nil : chunk, range: range,
                                  isLastPiece: chunk == pieces.count - 1))
            }
        }
        guard !units.isEmpty else {
            return Outcome(tensors: try results.map { try Self.require($0) }, storedBytes: 0)
        }

        let expected = units.reduce(UInt64(0)) { $0 + UInt64($1.range.count) }
        let pack = try BlobPack(objects, expectedObjects: units.count, expectedBytes: expected)
        let queue = try UnitQueue(units: units, plans: plans, previous: previous, staging: staging, budget: Self.budget)
        queue.start(workers: Self.workers)
        defer { queue.stopAndDrain() }

        var chunked: [Int: ChunkedTensor] = [:]
        for position in units.indices {
            let done = try queue.take(position)
            defer { queue.release(done) }
            let unit = units[position]
            let plan = plans[unit.tensor]
            switch done.kind {
            case let .whole(blob, sha256, statistics, stagedFile):
                try pack.add(blob)
                results[unit.tensor] = IngestedTensor(
                    record: Self.record(plan, sha256: sha256, statistics: statistics),
                    blobs: [blob.id], stagedFile: stagedFile)
            case let .chunk(blob, reusedID, stagedFile):
                var state = chunked[unit.tensor] ?? ChunkedTensor(dtype: plan.dtype, bodyStart: plan.header.headerLength)
                if let blob { try pack.add(blob) }
                state.add(done.bytes, at: unit.range.lowerBound, id: blob?.id ?? reusedID)
                if unit.isLastPiece {
                    let (sha256, statistics) = state.finish()
                    results[unit.tensor] = IngestedTensor(
                        record: Self.record(plan, sha256: sha256, statistics: statistics),
                        blobs: state.ids, stagedFile: stagedFile)
                    chunked[unit.tensor] = nil
                } else {
                    chunked[unit.tensor] = state
                }
            }
            handled += Int64(unit.range.count)
            progress?(handled)
        }
        try pack.finish()
        // The bytes read must be the file's: a source rewritten meanwhile would mix versions.
        for plan in plans { try queue.stamps[plan.source.path]?.verifyUnchanged(plan.source) }
        return Outcome(tensors: try results.map { try Self.require($0) }, storedBytes: pack.writtenBytes)
    }

    private static func require(_ tensor: IngestedTensor?) throws -> IngestedTensor {
        guard let tensor else { throw MVError("internal error: a tensor was not stored") }
        return tensor
    }

    private static func record(_ plan: TensorPlan, sha256: String, statistics: TensorStatistics) -> Manifest.TensorRecord {
        Manifest.TensorRecord(
            name: plan.name, file: "params/\(plan.file)", dtype: plan.dtype.rawValue, shape: plan.header.shape, bytes: plan.size,
            sha256: sha256, min: statistics.min, max: statistics.max, mean: statistics.mean, std: statistics.std,
            l2Norm: statistics.l2Norm, chunkBytes: plan.chunkBytes)
    }

    private static func renamed(_ record: Manifest.TensorRecord, _ plan: TensorPlan) -> Manifest.TensorRecord {
        var record = record
        record.name = plan.name
        return record
    }

    /// Whether each tensor's bytes equal its previous version's, compared with the work-tree
    /// file through memory maps on every core (no hashing: equal bytes are the same blob).
    private func findUnchanged() throws -> [Bool] {
        let candidates = plans.indices.filter { index in
            guard let before = previous[plans[index].name], before.workFile != nil else { return false }
            return before.record.bytes == plans[index].size && before.record.file == "params/\(plans[index].file)"
                && before.record.chunkBytes == plans[index].chunkBytes && before.record.dtype == plans[index].dtype.rawValue
        }
        guard !candidates.isEmpty else { return Array(repeating: false, count: plans.count) }
        final class Verdicts: @unchecked Sendable {
            let lock = NSLock()
            var same: [Int: Bool] = [:]
            var failure: Error?
        }
        let verdicts = Verdicts()
        let allPlans = plans, before = previous
        DispatchQueue.concurrentPerform(iterations: candidates.count) { position in
            let index = candidates[position]
            let plan = allPlans[index]
            let outcome = Result { () throws -> Bool in
                guard let file = before[plan.name]?.workFile else { return false }
                return try ByteComparison.equal(plan, range: 0..<plan.size, workFile: file)
            }
            verdicts.lock.lock()
            switch outcome {
            case .success(let same): verdicts.same[index] = same
            case .failure(let error): verdicts.failure = verdicts.failure ?? error
            }
            verdicts.lock.unlock()
        }
        if let failure = verdicts.failure { throw failure }
        return plans.indices.map { verdicts.same[$0] ?? false }
    }

}

/// A piece of work: one tensor's whole .npy, or one chunk of it.
struct Unit: Sendable {
    let tensor: Int
    let chunk: Int?
    let range: Range<Int>
    let isLastPiece: Bool
}

/// SHA-256 and statistics of a chunked tensor, fed chunk by chunk in order.
private struct ChunkedTensor {
    let dtype: DType
    let bodyStart: Int
    var hasher = SHA256()
    var statistics = TensorStatistics.Accumulator()
    /// Bytes of an element split across two chunks.
    var carry: [UInt8] = []
    var ids: [ObjectID] = []

    init(dtype: DType, bodyStart: Int) {
        self.dtype = dtype
        self.bodyStart = bodyStart
    }

    mutating func add(_ bytes: UnsafeRawBufferPointer, at offset: Int, id: ObjectID) {
        hasher.update(bufferPointer: bytes)
        ids.append(id)
        let skip = max(0, bodyStart - offset)
        guard bytes.count > skip, let base = bytes.baseAddress else { return }
        var body = UnsafeRawBufferPointer(start: base + skip, count: bytes.count - skip)
        let item = dtype.itemSize
        if !carry.isEmpty {
            let needed = min(item - carry.count, body.count)
            carry += UnsafeRawBufferPointer(rebasing: body[..<needed])
            body = UnsafeRawBufferPointer(rebasing: body[needed...])
            if carry.count == item {
                carry.withUnsafeBytes { statistics.add(raw: $0, dtype: dtype) }
                carry = []
            }
        }
        let whole = body.count - body.count % item
        statistics.add(raw: UnsafeRawBufferPointer(rebasing: body[..<whole]), dtype: dtype)
        carry += UnsafeRawBufferPointer(rebasing: body[whole...])
    }

    mutating func finish() -> (String, TensorStatistics) {
        (ContentHash.hex(hasher.finalize()), statistics.result)
    }
}

/// Exact comparison of a planned .npy's bytes with a file, through memory maps.
enum ByteComparison {
    static let window = 16 << 20

    /// True when `range` of the planned .npy equals the same range of `workFile`.
    static func equal(_ plan: TensorPlan, range: Range<Int>, workFile: URL) throws -> Bool {
        let work = open(workFile.path, O_RDONLY | O_CLOEXEC)
        guard work >= 0 else { return false }
        defer { close(work) }
        var info = stat()
        guard fstat(work, &info) == 0, Int(info.st_size) == plan.size else { return false }
        var position = range.lowerBound
        if position < plan.prefix.count {
            let count = min(plan.prefix.count, range.upperBound) - position
            var head = [UInt8](repeating: 0, count: count)
            guard pread(work, &head, count, off_t(position)) == count,
                  head[...] == plan.prefix[position..<(position + count)] else { return false }
            position += count
        }
        guard position < range.upperBound else { return true }
        let source = open(plan.source.path, O_RDONLY | O_CLOEXEC)
        guard source >= 0 else { throw MVError("cannot read '\(plan.source.path)': \(String(cString: strerror(errno)))") }
        defer { close(source) }
        while position < range.upperBound {
            let count = min(window, range.upperBound - position)
            let same = try withMapping(work, offset: position, count: count) { old in
                try withMapping(source, offset: plan.sourceOffset + position - plan.prefix.count, count: count) { new in
                    memcmp(old, new, count) == 0
                }
            }
            guard same else { return false }
            position += count
        }
        return true
    }

    /// True when `bytes` equal `bytes.count` bytes of `file` at `offset`.
    static func equal(_ bytes: UnsafeRawBufferPointer, file: URL, offset: Int) throws -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, Int(info.st_size) >= offset + bytes.count else { return false }
        return try withMapping(fd, offset: offset, count: bytes.count) { memcmp($0, base, bytes.count) == 0 }
    }

    private static func withMapping<T>(_ fd: Int32, offset: Int, count: Int, _ body: (UnsafeRawPointer) throws -> T) throws -> T {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let aligned = offset - offset % page
        let length = count + (offset - aligned)
        guard let mapping = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, off_t(aligned)), mapping != MAP_FAILED else {
            throw MVError("cannot map a file for comparison: \(String(cString: strerror(errno)))")
        }
        defer { munmap(mapping, length) }
        _ = madvise(mapping, length, MADV_SEQUENTIAL)
        return try body(UnsafeRawPointer(mapping) + (offset - aligned))
    }
}
