import Crypto
import Foundation
import Git
import ModelFormat
import SystemIO

/// What a worker does with one unit: read it (mapped, or into a buffer), hash it, summarise
/// it, fingerprint it, and hand its work-tree copy to the writer thread.
extension UnitQueue {
    /// The unit's result, and the write of its work-tree copy still to do (the unit can be
    /// packed meanwhile).
    func process(_ unit: Unit) throws -> (DoneUnit, (() throws -> Void)?) {
        let plan = plans[unit.tensor]
        let count = unit.range.count
        // Most tensors of a new version equal the old ones: hash those where the page cache
        // holds them, without copying them into a buffer first.
        var digest: String?
        if let expected = unit.previousSHA256, unit.chunk == nil {
            digest = try Self.sha256(plan, range: unit.range)
            if digest == expected {
                return (DoneUnit(kind: .unchanged, bytes: UnsafeRawBufferPointer(start: nil, count: 0), buffer: nil, cost: cost(unit)), nil)
            }
        }
        let source = try OpenFile(plan.source.path)
        // The bytes where the page cache holds them, else read into a buffer.
        let mapped = MappedSource(plan, range: unit.range, file: source)
        let buffer = mapped == nil ? try obtain(cost(unit)) : nil
        do {
            var bytes = mapped?.bytes ?? UnsafeRawBufferPointer(start: nil, count: 0)
            if let buffer {
                try plan.read(unit.range, into: buffer.pointer, from: source)
                bytes = UnsafeRawBufferPointer(start: buffer.pointer, count: count)
            }
            func finished(_ kind: DoneUnit.Kind, cost: Int, retaining pointer: PointerBytes? = nil) -> DoneUnit {
                var done = DoneUnit(kind: kind, bytes: bytes, buffer: buffer, cost: cost)
                done.mapped = mapped
                done.pointer = pointer
                return done
            }
            if plan.prefix.isEmpty && unit.range.lowerBound == 0 { try checkHeader(bytes, plan) }

            if let chunk = unit.chunk, patchedInPlace.contains(unit.tensor) {
                let (reused, fingerprint) = try reusableChunk(plan, chunk: chunk, range: unit.range, bytes: bytes)
                if let id = reused {
                    return (finished(.chunk(nil, id: id, fingerprint: nil, stagedFile: nil, patch: nil), cost: cost(unit)), nil)
                }
                let (blob, pointer) = try newObject(bytes, sha256: nil)
                let url = staging.appendingPathComponent("\(UUID().uuidString).chunk")
                try DirectWrite.write(bytes, to: try OpenFile(url.path, flags: O_WRONLY | O_CREAT | O_TRUNC), at: 0)
                return (
                    finished(
                        .chunk(blob, id: blob.id, fingerprint: fingerprint, stagedFile: nil, patch: url),
                        cost: cost(unit) + holding(blob), retaining: pointer), nil
                )
            }
            if let chunk = unit.chunk, let staged = chunkFiles[unit.tensor] {
                try DirectWrite.write(bytes, to: staged, at: unit.range.lowerBound)
                let (reused, fingerprint) = try reusableChunk(plan, chunk: chunk, range: unit.range, bytes: bytes)
                if let id = reused {
                    return (
                        finished(
                            .chunk(nil, id: id, fingerprint: nil, stagedFile: URL(fileURLWithPath: staged.path), patch: nil),
                            cost: cost(unit)), nil
                    )
                }
                let (blob, pointer) = try newObject(bytes, sha256: nil)
                return (
                    finished(
                        .chunk(blob, id: blob.id, fingerprint: fingerprint, stagedFile: URL(fileURLWithPath: staged.path), patch: nil),
                        cost: cost(unit) + holding(blob), retaining: pointer), nil
                )
            }

            // The same bytes: the source is checked unchanged once everything is read.
            let sha256 =
                digest
                ?? {
                    var hasher = SHA256()
                    hasher.update(bufferPointer: bytes)
                    return ContentHash.hex(hasher.finalize())
                }()
            // An LFS object is named by the SHA-256 of exactly the bytes stored: `digest` came
            // from an earlier read of the source, which may have changed since.
            let (blob, pointer) = try newObject(bytes, sha256: digest == nil ? sha256 : nil)
            var statistics = TensorStatistics.Accumulator()
            let bodyStart = min(plan.header.headerLength, count)
            let body = UnsafeRawBufferPointer(rebasing: bytes[bodyStart...])
            statistics.add(
                raw: UnsafeRawBufferPointer(rebasing: body[..<(body.count - body.count % plan.dtype.itemSize)]), dtype: plan.dtype)
            let fingerprint = fingerprints.flatMap { TensorFingerprinter.fingerprint(of: bytes, key: $0.key) }
            let url = staging.appendingPathComponent("\(UUID().uuidString).npy")
            let file = try OpenFile(url.path, flags: O_WRONLY | O_CREAT | O_TRUNC)
            let write = { try DirectWrite.write(bytes, to: file, at: 0) }
            return (
                finished(
                    .whole(blob, sha256: sha256, statistics: statistics.result, fingerprint: fingerprint, stagedFile: url),
                    cost: cost(unit) + holding(blob), retaining: pointer),
                write
            )
        } catch {
            if let buffer {
                condition.lock()
                recycle(buffer)
                condition.unlock()
            }
            throw error
        }
    }

    /// What a new unit is stored as: its Git blob, or with LFS storage its bytes in the LFS
    /// store under their SHA-256 (no collision-detecting SHA-1 pass over them) and the
    /// pointer blob Git holds instead, whose bytes live in the returned box until it is packed.
    func newObject(_ bytes: UnsafeRawBufferPointer, sha256 known: String?) throws -> (HashedBlob, PointerBytes?) {
        guard let lfs else { return (try ObjectDatabase.hash(blob: bytes), nil) }
        let oid = known ?? ContentHash.sha256(bytes: bytes)
        try lfs.store(bytes, oid: oid)
        let pointer = PointerBytes(LFSPointer(oid: oid, size: bytes.count))
        return (try ObjectDatabase.hash(blob: pointer.bytes), pointer)
    }

    /// Counts a blob's deflated stream against the budget until the packing thread releases
    /// it, so workers wait before reading more (compressible data holds both copies).
    func holding(_ blob: HashedBlob) -> Int {
        guard let extra = blob.deflatedBytes, extra > 0 else { return 0 }
        condition.lock()
        inFlight += extra
        condition.unlock()
        return extra
    }

    /// SHA-256 of `range` of the planned .npy, read through a memory map of the source.
    private static func sha256(_ plan: TensorPlan, range: Range<Int>) throws -> String {
        var hasher = SHA256()
        var position = range.lowerBound
        if position < plan.prefix.count {
            let end = min(plan.prefix.count, range.upperBound)
            plan.prefix[position..<end].withUnsafeBytes { hasher.update(bufferPointer: $0) }
            position = end
        }
        if position < range.upperBound {
            let file = try OpenFile(plan.source.path)
            try MappedRegion.reading(file, offset: plan.sourceOffset + position - plan.prefix.count, count: range.upperBound - position) {
                hasher.update(bufferPointer: UnsafeRawBufferPointer(start: $0, count: range.upperBound - position))
            }
        }
        return ContentHash.hex(hasher.finalize())
    }

    /// A .npy given as input is stored as read: its header must still be the one validated.
    private func checkHeader(_ bytes: UnsafeRawBufferPointer, _ plan: TensorPlan) throws {
        let header: NpyHeader
        do {
            header = try NpyHeader.parse(
                prefix: Data(bytes.prefix(plan.header.headerLength)),
                fileName: plan.source.lastPathComponent, fileSize: plan.size)
        } catch {
            throw TensorStoreError("\(error)")
        }
        guard header == plan.header else {
            throw TensorStoreError("'\(plan.source.path)' changed while it was being stored; nothing was committed")
        }
    }

    /// The previous version's id for this chunk when it holds exactly these bytes, and the
    /// bytes' fingerprint when the repository keeps fingerprints. The bytes are in memory
    /// already (the tensor's SHA-256 needs them), so where the old chunk has a fingerprint on
    /// record that settles it at memory speed; otherwise they are compared with the trusted
    /// work-tree file, which mv wrote around the page cache (a read from disk).
    private func reusableChunk(
        _ plan: TensorPlan, chunk: Int, range: Range<Int>,
        bytes: UnsafeRawBufferPointer
    ) throws -> (id: ObjectID?, fingerprint: String?) {
        let fingerprint = fingerprints.flatMap { TensorFingerprinter.fingerprint(of: bytes, key: $0.key) }
        guard let before = previous[plan.name], let size = before.record.chunkBytes, size == plan.chunkBytes,
            chunk < before.blobs.count, chunk * size == range.lowerBound,
            min((chunk + 1) * size, before.record.bytes) == range.upperBound
        else { return (nil, fingerprint) }
        let old = before.blobs[chunk]
        if let fingerprint, let recorded = fingerprints?.fingerprint(of: old) {
            return (fingerprint == recorded ? old : nil, fingerprint)
        }
        guard let work = before.workFile, try ByteComparison.equal(bytes, file: work, offset: range.lowerBound) else {
            return (nil, fingerprint)
        }
        return (old, fingerprint)
    }
}
