import Crypto
import Foundation
import Git
import ModelFormat
import SystemIO

/// Stores tensors in one pass over their bytes, on every core.
///
/// Each tensor (or chunk of a huge one) is read once into memory; two worker threads compute
/// its blob id (collision-detecting SHA-1), SHA-256 and statistics and write its work-tree
/// copy, while this thread appends new blobs to a single pack in order. Tensors whose bytes
/// equal the previous version's (found by fingerprint, or by comparing bytes, both much
/// cheaper than hashing) keep their blobs and records without being hashed at all. Memory in
/// flight is bounded (`budget`), whatever the model size.
struct PackIngest {
    let plans: [TensorPlan]
    let previous: [String: PreviousTensor]
    let staging: URL
    let objects: ObjectDatabase
    let state: StateFiles
    var progress: ((Int64) -> Void)?
    /// `.git/mv/input-cache.json` when already loaded.
    var inputCache: InputCache?
    /// The repository's tensor fingerprints (nil: not kept on this CPU).
    var knownFingerprints: TensorFingerprints?
    /// With LFS storage, where new tensor bytes go; the pack then holds their pointers.
    var lfs: LFSObjectStore?
    /// Whether stored blobs are kept the way new ones are (pointers or not), so a cached
    /// input may name them.
    var keeps: ([ObjectID]) -> Bool = { _ in true }

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

    func run() throws -> StoreOutcome {
        var results = [IngestedTensor?](repeating: nil, count: plans.count)
        var handled: Int64 = 0
        var newFingerprints: [(blob: ObjectID, fingerprint: String)] = []

        // 0. Inputs read before and untouched since (stat, as git's index does) are not read.
        // Objects only in another writer's unpublished pack are stored again, not relied on.
        let pending = PendingPacks(state: state, objects: objects)
        let avoided = pending.avoided()
        var cache = inputCache ?? InputCache(state)
        var stamps: [String: [Int64]?] = [:]
        for plan in plans where stamps[plan.source.path] == nil { stamps[plan.source.path] = InputCache.stamp(plan.source) }
        for (index, plan) in plans.enumerated() {
            guard let entry = cache.lookup(plan, stamp: stamps[plan.source.path] ?? nil) else { continue }
            let blobs = entry.blobs.compactMap { ObjectID(hex: $0) }
            guard blobs.count == entry.blobs.count, entry.statistics.count == 5,
                blobs.allSatisfy({ objects.contains($0) && !avoided.contains($0) }), keeps(blobs)
            else { continue }
            let statistics = TensorStatistics(
                count: 0, min: entry.statistics[0], max: entry.statistics[1], mean: entry.statistics[2],
                std: entry.statistics[3], l2Norm: entry.statistics[4], nonFiniteCount: 0)
            let before = previous[plan.name]
            results[index] = IngestedTensor(
                record: Self.record(plan, sha256: entry.sha256, statistics: statistics), blobs: blobs,
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
        let full =
            needFull.isEmpty
            ? Background(finished: .success([:]))
            : Background {
                try Self.compare(needFull, plans: allPlans, previous: before, locator: locator, limit: nil, fingerprints: fingerprints)
            }
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
            results[index] = IngestedTensor(
                record: Self.renamed(before.record, plan), blobs: before.blobs, stagedFile: nil,
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
                    units.append(
                        Unit(
                            tensor: tensor, chunk: plan.chunkBytes == nil ? nil : chunk, range: range,
                            isLastPiece: chunk == pieces.count - 1, previousSHA256: expected))
                }
            }
            return units
        }
        func finish(storedBytes: UInt64) throws -> StoreOutcome {
            let tensors = try results.map { try Self.require($0) }
            for (plan, tensor) in zip(plans, tensors) {
                cache.remember(plan, stamp: stamps[plan.source.path] ?? nil, record: tensor.record, blobs: tensor.blobs)
            }
            let (inputs, verified, key, fingerprinted, state) = (
                cache, tensors.filter(\.hashedFromBlobs).map { ($0.record.sha256, $0.blobs) },
                knownFingerprints?.key, newFingerprints, state
            )
            let writes = Background {
                inputs.save()
                VerifiedTensors.remember(verified, state: state)
                if let key { TensorFingerprints.remember(fingerprinted, key: key, state: state) }
            }
            return StoreOutcome(tensors: tensors, storedBytes: storedBytes, cacheWrites: writes)
        }

        // 2. Everything else, read once: workers hash and summarise, this thread packs.
        let waiting = Set(needFull)
        let first = units(for: plans.indices.filter { results[$0] == nil && !waiting.contains($0) }) { quick[$0] ?? nil }
        var pack: BlobPack?
        var stamped: [String: FileStamp] = [:]
        func store(_ units: [Unit]) throws {
            guard !units.isEmpty else { return }
            // Sized for the first batch: a second one (rare) makes the header's count wrong,
            // and the pack's checksum is then computed again from the file.
            let target =
                try pack
                ?? BlobPack(
                    objects, expectedObjects: units.count,
                    expectedBytes: units.reduce(UInt64(0)) { $0 + UInt64($1.range.count) }, avoiding: avoided)
            pack = target
            stamped.merge(try self.store(units, into: target, results: &results, handled: &handled, fingerprints: &newFingerprints)) {
                old, _ in old
            }
        }
        try store(first)
        let verdicts = try full.wait().get()
        PhaseTrace.mark("ingest: compared")
        for index in needFull where verdicts[index] == true { settle(index) }
        progress?(handled)
        try store(units(for: needFull.filter { results[$0] == nil }) { verdicts[$0] ?? nil })
        // The bytes read must be the file's: a source rewritten meanwhile would mix versions.
        // Checked before the pack is published, so a refusal leaves no pack behind.
        for plan in plans {
            guard let before = stamped[plan.source.path] else { continue }
            guard let now = FileStamp(path: plan.source.path), !now.contentMayDiffer(from: before) else {
                throw TensorStoreError(
                    "'\(plan.source.path)' changed while it was being stored; nothing was committed",
                    hint: "wait for whatever writes it to finish, then run the command again")
            }
        }
        guard let pack else { return try finish(storedBytes: 0) }
        PhaseTrace.mark("ingest: units packed")
        try pack.finish(beforeInstalling: pending.record)
        PhaseTrace.mark("ingest: pack finished")
        CrashPoint.reached("pack")
        return try finish(storedBytes: pack.writtenBytes)
    }

    /// Reads, hashes and packs `units` on the workers; returns the source stamps taken before
    /// reading.
    private func store(
        _ units: [Unit], into pack: BlobPack, results: inout [IngestedTensor?], handled: inout Int64,
        fingerprints: inout [(blob: ObjectID, fingerprint: String)]
    ) throws -> [String: FileStamp] {
        // A chunked tensor whose previous work-tree file is trusted and laid out the same is
        // patched in place: only its changed chunks are written.
        let patchedInPlace = Set(
            units.compactMap { unit -> Int? in
                let plan = plans[unit.tensor]
                guard unit.chunk != nil, let before = previous[plan.name], before.workFile != nil,
                    Self.sameLayout(before.record, plan), before.blobs.count == plan.pieces.count
                else { return nil }
                return unit.tensor
            })
        let queue = try UnitQueue(
            units: units, plans: plans, previous: previous, staging: staging, budget: Self.budget,
            patchedInPlace: patchedInPlace, fingerprints: knownFingerprints, lfs: lfs)
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
                    results[unit.tensor] = IngestedTensor(
                        record: Self.renamed(before.record, plan), blobs: before.blobs,
                        stagedFile: nil, inPlace: before.workFile != nil)
                }
            case .whole(let blob, let sha256, let statistics, let fingerprint, let stagedFile):
                try pack.add(blob)
                if let fingerprint { fingerprints.append((blob.id, fingerprint)) }
                results[unit.tensor] = IngestedTensor(
                    record: Self.record(plan, sha256: sha256, statistics: statistics),
                    blobs: [blob.id], stagedFile: stagedFile, hashedFromBlobs: true)
            case .chunk(let blob, let reusedID, let fingerprint, let stagedFile, let patch):
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
        guard let tensor else { throw TensorStoreError("internal error: a tensor was not stored") }
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
}
