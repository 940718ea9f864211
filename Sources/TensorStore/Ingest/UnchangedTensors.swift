import Foundation
import Git
import ModelFormat
import SystemIO

/// Finding the tensors of a new version whose bytes equal the previous version's, without
/// hashing them: by the input's fingerprint against the one recorded for the old blob, or
/// by comparing bytes with the old blob in its pack or the trusted work-tree file, on every
/// core. Equal bytes are the same blob, so such a tensor keeps its blob and record.
extension PackIngest {
    /// Bytes compared first: enough to find most changed tensors (a training step moves
    /// nearly every value) for almost nothing.
    static let quickComparison = 64 << 10

    /// Tensors that can be compared with their previous version's bytes: same name and
    /// layout, and a trusted work-tree file or (whole tensors) a blob in a pack.
    func comparisonCandidates(skipping known: Set<Int>, locator: StoredBlobLocator?) -> [Int] {
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
    static func compare(
        _ candidates: [Int], plans: [TensorPlan], previous: [String: PreviousTensor],
        locator: StoredBlobLocator?, limit: Int?, fingerprints: TensorFingerprints? = nil
    ) throws -> [Int: Bool?] {
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
                guard let tensor = previous[plan.name], let source = sources.file(plan.source.path) else { return nil }
                if limit == nil, let fingerprints, tensor.blobs.count == 1, plan.chunkBytes == nil,
                    let expected = fingerprints.fingerprint(of: tensor.blobs[0]),
                    let same = try windows.using({
                        try ByteComparison.input(
                            plan, source: source, window: $0.input, hasFingerprint: expected,
                            key: fingerprints.key)
                    })
                {
                    return same
                }
                // The pack mv wrote is usually in memory (the work-tree copy is written around
                // the page cache): compare with the stored blob itself, else the work-tree copy.
                if tensor.blobs.count == 1, plan.chunkBytes == nil, let locator,
                    let same = try windows.using({
                        try ByteComparison.equal(
                            plan, storedBlob: tensor.blobs[0], upTo: end, locator: locator,
                            source: source, windows: $0)
                    })
                {
                    return same
                }
                if tensor.blobs.count == 1, plan.chunkBytes == nil,
                    let stored = locator?.locate(tensor.blobs[0], size: plan.size, prefix: end, inMemoryOnly: true)
                {
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
