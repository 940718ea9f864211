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
    /// The .npy written for the work tree (nil when the blob was already stored).
    let stagedFile: URL?
    /// The work-tree file already holds exactly these bytes.
    var inPlace = false
    /// A chunked tensor whose work-tree file holds `patchBase` and gets `patches` written
    /// over it in place.
    var patchBase: [ObjectID]?
    var patches: [AssembledFile.Patch] = []
    /// The record's SHA-256 was computed from exactly these blobs' bytes (here or, for an
    /// input-cache hit, when the input was first stored), not carried over from a manifest.
    var hashedFromBlobs = false
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
    let gitDirectory: URL
    var progress: ((Int64) -> Void)?
    /// `.git/mv/input-cache.json` when already loaded.
    var inputCache: InputCache?
    /// The repository's tensor fingerprints (nil: not kept on this CPU).
    var knownFingerprints: TensorFingerprints?

    static let budget = 128 << 20
    /// Workers for `units` units: a few (up to two more than cores) all start at once, so that
    /// no changed tensor is left to hash alone at the end; more share one worker per core
    /// plus one for the packing thread's idle moments (work-tree copies are written by a
    /// thread of their own). 512 MiB, 64 units, 2 cores: 1.35 s with 3 workers, 1.40 s with
    /// 4; 4 units: 0.14 s with 4, 0.15–0.26 s with 3.
    static func workers(for units: Int) -> Int {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return min(32, units <= cores + 2 ? units : cores + 1)
    }

    struct Outcome {
        var tensors: [IngestedTensor]
        var storedBytes: UInt64
        /// The caches of what was read (input cache, verified tensors, fingerprints), written
        /// meanwhile: they are not needed for the commit, so it need not wait for them (~3 ms);
        /// wait before the command ends.
        var cacheWrites: Background<Void>
    }

    func run() throws -> Outcome {
        var results = [IngestedTensor?](repeating: nil, count: plans.count)
        var handled: Int64 = 0
        var newFingerprints: [(blob: ObjectID, fingerprint: String)] = []

        // 0. Inputs read before and untouched since (stat, as git's index does) are not read.
        var cache = inputCache ?? InputCache(gitDirectory: gitDirectory)
        var stamps: [String: [Int64]?] = [:]
        for plan in plans where stamps[plan.source.path] == nil { stamps[plan.source.path] = InputCache.stamp(plan.source) }
        for (index, plan) in plans.enumerated() {
            guard let entry = cache.lookup(plan, stamp: stamps[plan.source.path] ?? nil) else { continue }
            let blobs = entry.blobs.compactMap { ObjectID(hex: $0) }
            guard blobs.count == entry.blobs.count, entry.statistics.count == 5, blobs.allSatisfy(objects.contains) else { continue }
            let statistics = TensorStatistics(count: 0, min: entry.statistics[0], max: entry.statistics[1], mean: entry.statistics[2],
                                              std: entry.statistics[3], l2Norm: entry.statistics[4], nonFiniteCount: 0)
            let before = previous[plan.name]
            results[index] = IngestedTensor(record: Self.record(plan, sha256: entry.sha256, statistics: statistics), blobs: blobs,
                                            stagedFile: nil, inPlace: before?.workFile != nil && before?.blobs == blobs,
                                            hashedFromBlobs: true)
            handled += Int64(plan.size)
        }

        // 1. Unchanged tensors, found by comparing bytes with the previous version's copy
        //    while that is in the page cache (reading it from disk would cost more than
        //    hashing). The first 64 KiB settle most changed tensors at once; those are hashed
        //    (step 2) while the rest are checked in full in the background (both cores are
        //    then busy with one or the other) — by fingerprint where the old blob has one,
        //    which needs only the new bytes — and whatever that finds changed follows.
        PhaseTrace.mark("ingest: input cache")
        let locator = try? StoredBlobLocator(objects)
        let fingerprints = knownFingerprints
        let candidates = comparisonCandidates(skipping: Set(results.indices.filter { results[$0] != nil }), locator: locator)
        let quick = try Self.compare(candidates, plans: plans, previous: previous, locator: locator, limit: Self.quickComparison)
        // Compared in full: what agrees so far, and what has a fingerprint where the old bytes
        // were not at hand.
        let needFull = candidates.filter { index in
            switch quick[index] {
            case .some(.some(true)): plans[index].size > Self.quickComparison
            case .some(.none): knownFingerprint(index) != nil
            default: false
            }
        }
        for index in candidates where quick[index] == true && plans[index].size <= Self.quickComparison { settle(index) }
        let (allPlans, before) = (plans, previous)
        let full = needFull.isEmpty ? Background(finished: .success([:]))
            : Background { try Self.compare(needFull, plans: allPlans, previous: before, locator: locator, limit: nil, fingerprints: fingerprints) }
        // Whatever happens below, the comparison is over before this returns.
        defer { _ = full.wait() }
        PhaseTrace.mark("ingest: quick comparison")

        func knownFingerprint(_ index: Int) -> String? {
            guard plans[index].chunkBytes == nil, let blobs = previous[plans[index].name]?.blobs, blobs.count == 1 else { return nil }
            return fingerprints?.fingerprint(of: blobs[0])
        }
        func settle(_ index: Int) {
            let plan = plans[index]
            guard let before = previous[plan.name] else { return }
            results[index] = IngestedTensor(record: Self.renamed(before.record, plan), blobs: before.blobs, stagedFile: nil,
                                            inPlace: before.workFile != nil)
            handled += Int64(plan.size)
        }
        /// Units for `tensors`; one the comparison could not settle (`verdict` nil) is
        /// checked against the previous version's SHA-256 first.
        func units(for tensors: [Int], verdict: (Int) -> Bool?) -> [Unit] {
            var units: [Unit] = []
            for tensor in tensors {
                let plan = plans[tensor]
                let pieces = plan.pieces
                var expected: String?
                if plan.chunkBytes == nil, verdict(tensor) == nil, let before = previous[plan.name], Self.sameLayout(before.record, plan) {
                    expected = before.record.sha256
                }
                for (chunk, range) in pieces.enumerated() {
                    units.append(Unit(tensor: tensor, chunk: plan.chunkBytes == nil ? nil : chunk, range: range,
                                      isLastPiece: chunk == pieces.count - 1, previousSHA256: expected))
                }
            }
            return units
        }
        func finish(storedBytes: UInt64) throws -> Outcome {
            let tensors = try results.map { try Self.require($0) }
            for (plan, tensor) in zip(plans, tensors) {
                cache.remember(plan, stamp: stamps[plan.source.path] ?? nil, record: tensor.record, blobs: tensor.blobs)
            }
            let (inputs, verified, key, fingerprinted, gitDirectory) = (cache, tensors.filter(\.hashedFromBlobs).map { ($0.record.sha256, $0.blobs) },
                                                                       knownFingerprints?.key, newFingerprints, gitDirectory)
            let writes = Background {
                inputs.save()
                VerifiedTensors.remember(verified, gitDirectory: gitDirectory)
                if let key { TensorFingerprints.remember(fingerprinted, key: key, gitDirectory: gitDirectory) }
            }
            return Outcome(tensors: tensors, storedBytes: storedBytes, cacheWrites: writes)
        }

        // 2. Everything else, read once: workers hash and summarise, this thread packs.
        let waiting = Set(needFull)
        let first = units(for: plans.indices.filter { results[$0] == nil && !waiting.contains($0) }) { quick[$0] ?? nil }
        var pack: BlobPack?
        var stamped: [String: SourceStamp] = [:]
        func store(_ units: [Unit]) throws {
            guard !units.isEmpty else { return }
            // Sized for the first batch: a second one (rare) makes the header's count wrong,
            // and the pack's checksum is then computed again from the file.
            let target = try pack ?? BlobPack(objects, expectedObjects: units.count,
                                              expectedBytes: units.reduce(UInt64(0)) { $0 + UInt64($1.range.count) })
            pack = target
            stamped.merge(try self.store(units, into: target, results: &results, handled: &handled, fingerprints: &newFingerprints)) { old, _ in old }
        }
        try store(first)
        let verdicts = try full.wait().get()
        PhaseTrace.mark("ingest: compared")
        for index in needFull where verdicts[index] == true { settle(index) }
        progress?(handled)
        try store(units(for: needFull.filter { results[$0] == nil }) { verdicts[$0] ?? nil })
        // The bytes read must be the file's: a source rewritten meanwhile would mix versions.
        // Checked before the pack is published, so a refusal leaves no pack behind.
        for plan in plans { try stamped[plan.source.path]?.verifyUnchanged(plan.source) }
        guard let pack else { return try finish(storedBytes: 0) }
        PhaseTrace.mark("ingest: units packed")
        try pack.finish()
        PhaseTrace.mark("ingest: pack finished")
        return try finish(storedBytes: pack.writtenBytes)
    }

    /// Reads, hashes and packs `units` on the workers; returns the source stamps taken before
    /// reading.
    private func store(_ units: [Unit], into pack: BlobPack, results: inout [IngestedTensor?], handled: inout Int64,
                       fingerprints: inout [(blob: ObjectID, fingerprint: String)]) throws -> [String: SourceStamp] {
        // A chunked tensor whose previous work-tree file is trusted and laid out the same is
        // patched in place: only its changed chunks are written.
        let patchedInPlace = Set(units.compactMap { unit -> Int? in
            let plan = plans[unit.tensor]
            guard unit.chunk != nil, let before = previous[plan.name], before.workFile != nil,
                  Self.sameLayout(before.record, plan), before.blobs.count == plan.pieces.count else { return nil }
            return unit.tensor
        })
        let queue = try UnitQueue(units: units, plans: plans, previous: previous, staging: staging, budget: Self.budget,
                                  patchedInPlace: patchedInPlace, fingerprints: knownFingerprints)
        queue.start(workers: Self.workers(for: units.count))
        defer { queue.stopAndDrain() }

        var chunked: [Int: ChunkedTensor] = [:]
        // Units are packed as they finish, so a big tensor still being hashed does not hold up
        // the pack; a chunk waits for the chunks before it (its tensor's SHA-256 runs in order).
        var nextChunk: [Int: Int] = [:]
        for _ in units.indices {
            let (position, done) = try queue.takeReady { position in
                guard let chunk = units[position].chunk else { return true }
                return chunk == nextChunk[units[position].tensor, default: 0]
            }
            defer { queue.release(done) }
            if let chunk = units[position].chunk { nextChunk[units[position].tensor] = chunk + 1 }
            let unit = units[position]
            let plan = plans[unit.tensor]
            switch done.kind {
            case .unchanged:
                if let before = previous[plan.name] {
                    results[unit.tensor] = IngestedTensor(record: Self.renamed(before.record, plan), blobs: before.blobs,
                                                          stagedFile: nil, inPlace: before.workFile != nil)
                }
            case let .whole(blob, sha256, statistics, fingerprint, stagedFile):
                try pack.add(blob)
                if let fingerprint { fingerprints.append((blob.id, fingerprint)) }
                results[unit.tensor] = IngestedTensor(
                    record: Self.record(plan, sha256: sha256, statistics: statistics),
                    blobs: [blob.id], stagedFile: stagedFile, hashedFromBlobs: true)
            case let .chunk(blob, reusedID, fingerprint, stagedFile, patch):
                var state = chunked[unit.tensor] ?? ChunkedTensor(dtype: plan.dtype, bodyStart: plan.header.headerLength)
                if let blob {
                    try pack.add(blob)
                    if let fingerprint { fingerprints.append((blob.id, fingerprint)) }
                }
                state.add(done.bytes, at: unit.range.lowerBound, id: blob?.id ?? reusedID)
                if let patch { state.patches.append(AssembledFile.Patch(offset: unit.range.lowerBound, source: patch)) }
                if unit.isLastPiece {
                    let (sha256, statistics) = state.finish()
                    // Every chunk was read and hashed into the SHA-256; each id is its bytes'
                    // or a previous chunk's with equal bytes.
                    var tensor = IngestedTensor(
                        record: Self.record(plan, sha256: sha256, statistics: statistics),
                        blobs: state.ids, stagedFile: stagedFile, hashedFromBlobs: true)
                    if patchedInPlace.contains(unit.tensor) {
                        tensor.patchBase = previous[plan.name]?.blobs
                        tensor.patches = state.patches
                    }
                    results[unit.tensor] = tensor
                    chunked[unit.tensor] = nil
                } else {
                    chunked[unit.tensor] = state
                }
            }
            handled += Int64(unit.range.count)
            progress?(handled)
        }
        try queue.checkWrites()
        return queue.stamps
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

    static func sameLayout(_ record: Manifest.TensorRecord, _ plan: TensorPlan) -> Bool {
        record.bytes == plan.size && record.file == "params/\(plan.file)" && record.chunkBytes == plan.chunkBytes
            && record.dtype == plan.dtype.rawValue && record.shape == plan.header.shape
    }

    /// Bytes compared first: enough to find most changed tensors (a training step moves
    /// nearly every value) for almost nothing.
    static let quickComparison = 64 << 10

    /// Tensors that can be compared with their previous version's bytes: same name and
    /// layout, and a trusted work-tree file or (whole tensors) a blob in a pack.
    private func comparisonCandidates(skipping known: Set<Int>, locator: StoredBlobLocator?) -> [Int] {
        plans.indices.filter { index in
            guard !known.contains(index), let before = previous[plans[index].name] else { return false }
            let whole = plans[index].chunkBytes == nil && before.blobs.count == 1
            let fingerprinted = whole && knownFingerprints?.fingerprint(of: before.blobs[0]) != nil
            guard before.workFile != nil || (locator != nil && whole) || fingerprinted else { return false }
            return Self.sameLayout(before.record, plans[index])
        }
    }

    /// Whether each candidate's bytes (the first `limit` of them, or all) equal its previous
    /// version's, on every core: in full, by the input's fingerprint where the old blob has
    /// one; else by comparing bytes with the blob's stored blocks in its pack or the work-tree
    /// file (no hashing: equal bytes are the same blob); nil where the old bytes are not in
    /// the page cache.
    static func compare(_ candidates: [Int], plans: [TensorPlan], previous: [String: PreviousTensor],
                        locator: StoredBlobLocator?, limit: Int?, fingerprints: TensorFingerprints? = nil) throws -> [Int: Bool?] {
        guard !candidates.isEmpty else { return [:] }
        final class Verdicts: @unchecked Sendable {
            let lock = NSLock()
            var same: [Int: Bool?] = [:]
            var failure: Error?
        }
        let verdicts = Verdicts()
        // Each input opened once for all its tensors: dozens of opens and closes cost more
        // than comparing 64 KiB.
        let sources = try ByteComparison.OpenFiles(Set(candidates.map { plans[$0].source.path }))
        let windows = ByteComparison.WindowPool()
        DispatchQueue.concurrentPerform(iterations: candidates.count) { position in
            let index = candidates[position]
            let plan = plans[index]
            let end = min(plan.size, limit ?? plan.size)
            let outcome = Result { () throws -> Bool? in
                guard let tensor = previous[plan.name], let source = sources.descriptor(plan.source.path) else { return nil }
                if limit == nil, let fingerprints, tensor.blobs.count == 1, plan.chunkBytes == nil,
                   let expected = fingerprints.fingerprint(of: tensor.blobs[0]),
                   let same = try windows.using({ try ByteComparison.input(plan, source: source, window: $0.input, hasFingerprint: expected,
                                                                          key: fingerprints.key) }) {
                    return same
                }
                // The pack mv wrote is usually in memory (the work-tree copy is written around
                // the page cache): compare with the stored blob itself, else the work-tree copy.
                if tensor.blobs.count == 1, plan.chunkBytes == nil, let locator,
                   let same = try windows.using({ try ByteComparison.equal(plan, storedBlob: tensor.blobs[0], upTo: end, locator: locator,
                                                                          source: source, windows: $0) }) {
                    return same
                }
                if tensor.blobs.count == 1, plan.chunkBytes == nil,
                   let stored = locator?.locate(tensor.blobs[0], size: plan.size, prefix: end, inMemoryOnly: true) {
                    return try ByteComparison.equal(plan, stored: stored, upTo: end, source: source)
                }
                guard let file = tensor.workFile else { return nil }
                return try ByteComparison.equal(plan, range: 0..<end, workFile: file)
            }
            verdicts.lock.lock()
            switch outcome {
            case .success(let same): verdicts.same[index] = same
            case .failure(let error): verdicts.failure = verdicts.failure ?? error
            }
            verdicts.lock.unlock()
        }
        if let failure = verdicts.failure { throw failure }
        return verdicts.same
    }
}

/// A piece of work: one tensor's whole .npy, or one chunk of it.
struct Unit: Sendable {
    let tensor: Int
    let chunk: Int?
    let range: Range<Int>
    let isLastPiece: Bool
    /// The previous version's SHA-256 of this whole tensor, when equal bytes should keep its blob.
    var previousSHA256: String?
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
    var patches: [AssembledFile.Patch] = []

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

    /// True when `range` of the planned .npy equals the same range of `workFile`; nil when
    /// part of `workFile` is not in the page cache (then hashing the input is cheaper).
    static func equal(_ plan: TensorPlan, range: Range<Int>, workFile: URL) throws -> Bool? {
        let work = open(workFile.path, O_RDONLY | O_CLOEXEC)
        guard work >= 0 else { return false }
        defer { close(work) }
        var info = stat()
        guard fstat(work, &info) == 0, Int(info.st_size) == plan.size else { return false }
        // mv writes work-tree copies around the page cache: most are not in memory at all,
        // and reading even their header would be a disk read.
        let headResident = try plan.size == 0 || withMapping(work, offset: 0, count: 1) { PageCache.isResident($0, count: 1) }
        guard headResident else { return nil }
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
            let same = try withMapping(work, offset: position, count: count) { old -> Bool? in
                guard PageCache.isResident(old, count: count) else { return nil }
                return try withMapping(source, offset: plan.sourceOffset + position - plan.prefix.count, count: count) { new in
                    memcmp(old, new, count) == 0
                }
            }
            guard let same else { return nil }
            guard same else { return false }
            position += count
        }
        return true
    }

    /// Read-only descriptors of some files, opened together and closed with this value.
    final class OpenFiles: @unchecked Sendable {
        private let descriptors: [String: Int32]

        init(_ paths: Set<String>) throws {
            var descriptors: [String: Int32] = [:]
            for path in paths {
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else {
                    let reason = String(cString: strerror(errno))
                    for opened in descriptors.values { close(opened) }
                    throw MVError("cannot read '\(path)': \(reason)")
                }
                descriptors[path] = fd
            }
            self.descriptors = descriptors
        }

        func descriptor(_ path: String) -> Int32? { descriptors[path] }

        deinit { for fd in descriptors.values { close(fd) } }
    }

    /// True when the planned .npy equals the stored blob's content (its first `end` bytes).
    static func equal(_ plan: TensorPlan, stored: StoredBlob, upTo end: Int? = nil) throws -> Bool {
        let files = try OpenFiles([plan.source.path])
        guard let source = files.descriptor(plan.source.path) else { return false }
        return try equal(plan, stored: stored, upTo: end, source: source)
    }

    /// The same, with the plan's source file already open as `source`.
    static func equal(_ plan: TensorPlan, stored whole: StoredBlob, upTo end: Int? = nil, source: Int32) throws -> Bool {
        let end = min(end ?? plan.size, plan.size)
        let stored = whole.prefix(end)
        let prefixCount = plan.prefix.count
        let sourceCount = plan.size - prefixCount
        return try withMapping(source, offset: plan.sourceOffset, count: max(sourceCount, 1)) { input -> Bool in
            var content = 0
            for segment in stored.segments {
                let old = stored.bytes(segment)
                guard let oldBase = old.baseAddress else { continue }
                var done = 0
                while done < old.count {
                    let count: Int
                    let same: Bool
                    if content < prefixCount {
                        count = min(old.count - done, prefixCount - content)
                        same = plan.prefix[content..<(content + count)].elementsEqual(UnsafeRawBufferPointer(rebasing: old[done..<(done + count)]))
                    } else {
                        count = old.count - done
                        same = memcmp(oldBase + done, input + (content - prefixCount), count) == 0
                    }
                    guard same else { return false }
                    done += count
                    content += count
                }
            }
            return content == end
        }
    }

    /// Buffers for reading a stored blob and its input side by side, one pair per thread at a
    /// time, kept for the next tensor (fresh pages cost a fault and zeroing each).
    final class WindowPool: @unchecked Sendable {
        private let lock = NSLock()
        private var spare: [(stored: ReadWindow, input: ReadWindow)] = []

        func using<T>(_ body: ((stored: ReadWindow, input: ReadWindow)) throws -> T) rethrows -> T {
            lock.lock()
            let pair = spare.popLast() ?? (ReadWindow(capacity: ByteComparison.readWindow), ReadWindow(capacity: ByteComparison.readWindow))
            lock.unlock()
            defer {
                lock.lock()
                spare.append(pair)
                lock.unlock()
            }
            return try body(pair)
        }
    }

    /// Bytes read at a time from the pack and from the input: two such buffers stay in a
    /// core's 1-2 MiB cache while they are compared.
    static let readWindow = 256 << 10

    /// True when the planned .npy's first `end` bytes equal blob `id`'s, read from its stored
    /// blocks and the input with `pread`; nil when the blob is not stored that way or not all
    /// in memory (the caller then looks elsewhere).
    static func equal(_ plan: TensorPlan, storedBlob id: ObjectID, upTo end: Int, locator: StoredBlobLocator, source: Int32,
                      windows: (stored: ReadWindow, input: ReadWindow)) throws -> Bool? {
        let prefixCount = plan.prefix.count
        do {
            return try locator.readStored(id, size: plan.size, prefix: end, cachedOnly: true, window: windows.stored) { piece, offset in
                var piece = piece
                var content = offset
                if content < prefixCount {
                    let count = min(piece.count, prefixCount - content)
                    guard plan.prefix[content..<(content + count)].elementsEqual(UnsafeRawBufferPointer(rebasing: piece[..<count])) else {
                        return false
                    }
                    piece = UnsafeRawBufferPointer(rebasing: piece[count...])
                    content += count
                }
                guard let base = piece.baseAddress, !piece.isEmpty else { return true }
                guard let input = try windows.input.bytes(source, at: plan.sourceOffset + content - prefixCount, count: piece.count,
                                                          needed: end - content),
                      let inputBase = input.baseAddress else { return false }
                return memcmp(base, inputBase, piece.count) == 0
            }
        } catch is ReadWindow.Failure {
            return nil
        }
    }

    /// Whether the planned .npy (mv's header, then the input's bytes read through `window`)
    /// has fingerprint `expected`; nil when the input ends early or this CPU has no
    /// fingerprints.
    static func input(_ plan: TensorPlan, source: Int32, window: ReadWindow, hasFingerprint expected: String,
                      key: FingerprintKey) throws -> Bool? {
        guard let fingerprinter = TensorFingerprinter(key: key) else { return nil }
        fingerprinter.update(plan.prefix)
        var offset = plan.sourceOffset
        var remaining = plan.size - plan.prefix.count
        while remaining > 0 {
            let count = min(window.capacity, remaining)
            guard let bytes = try window.bytes(source, at: offset, count: count, needed: remaining) else { return nil }
            fingerprinter.update(bytes)
            offset += count
            remaining -= count
        }
        return fingerprinter.finalize() == expected
    }

    /// True when `bytes` equal `bytes.count` bytes of `file` at `offset`.
    static func equal(_ bytes: UnsafeRawBufferPointer, file: URL, offset: Int) throws -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, Int(info.st_size) >= offset + bytes.count else { return false }
        // In windows: each worker maps at most `compareWindow` of the file at a time (whole
        // 32 MiB chunks on every worker added ~130 MiB of mapped file to the peak RSS).
        var done = 0
        while done < bytes.count {
            let count = min(compareWindow, bytes.count - done)
            guard try withMapping(fd, offset: offset + done, count: count, { memcmp($0, base + done, count) == 0 }) else { return false }
            done += count
        }
        return true
    }

    static let compareWindow = 4 << 20

    static func withMapping<T>(_ fd: Int32, offset: Int, count: Int, _ body: (UnsafeRawPointer) throws -> T) throws -> T {
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

/// What mv stored for input files it read before (`.git/mv/input-cache.json`), keyed by
/// path, position and size, valid while the file's stamp (size, inode, mtime, ctime) is
/// unchanged — git's own test for its index. A folder of .npy files in which a few changed
/// is then registered without reading the others at all.
struct InputCache {
    struct Entry: Codable, Equatable {
        var stamp: [Int64]
        var sha256: String
        var statistics: [Double]
        var blobs: [String]
    }

    let url: URL
    private(set) var entries: [String: Entry]

    init(gitDirectory: URL) {
        url = gitDirectory.appendingPathComponent("mv/input-cache.json")
        entries = (try? JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: url))) ?? [:]
    }

    static func key(_ plan: TensorPlan) -> String {
        "\(plan.source.standardizedFileURL.path)|\(plan.sourceOffset)|\(plan.size)|\(plan.dtype.rawValue)|\(plan.chunkBytes ?? 0)"
    }

    /// Size, inode, device, mtime and ctime (ns); nil for a file modified in the last second,
    /// which a write in the same clock tick could change without changing its stamp.
    static func stamp(_ url: URL, now: Date = Date()) -> [Int64]? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        let modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        let changed = Double(info.st_ctim.tv_sec) + Double(info.st_ctim.tv_nsec) / 1e9
        guard now.timeIntervalSince1970 - max(modified, changed) > 1 else { return nil }
        return [Int64(info.st_size), Int64(bitPattern: UInt64(info.st_ino)), Int64(bitPattern: UInt64(info.st_dev)),
                Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec), Int64(info.st_ctim.tv_sec), Int64(info.st_ctim.tv_nsec)]
    }

    func lookup(_ plan: TensorPlan, stamp: [Int64]?) -> Entry? {
        guard let stamp, let entry = entries[Self.key(plan)], entry.stamp == stamp else { return nil }
        return entry
    }

    mutating func remember(_ plan: TensorPlan, stamp: [Int64]?, record: Manifest.TensorRecord, blobs: [ObjectID]) {
        guard let stamp else { return }
        entries[Self.key(plan)] = Entry(stamp: stamp, sha256: record.sha256,
                                        statistics: [record.min, record.max, record.mean, record.std, record.l2Norm],
                                        blobs: blobs.map(\.description))
    }

    /// Keeps the cache to inputs that still exist, so it does not grow forever.
    func save() {
        let live = entries.filter { key, _ in
            FileManager.default.fileExists(atPath: String(key.prefix { $0 != "|" }))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? encoder.encode(live).writeUnsynced(to: url, atomically: true)
    }
}
