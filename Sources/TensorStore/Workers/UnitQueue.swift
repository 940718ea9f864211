import Crypto
import Foundation
import Git
import ModelFormat
import SystemIO

/// Worker threads that read units in order and process them, with at most `budget` bytes of
/// buffers alive at once; the consumer takes results as they finish (`takeReady`).
final class UnitQueue: @unchecked Sendable {
    let units: [Unit]
    let plans: [TensorPlan]
    let previous: [String: PreviousTensor]
    let staging: URL
    private let budget: Int
    /// Source files' stamps taken before reading.
    let stamps: [String: FileStamp]
    /// The work-tree copy of each chunked tensor, written chunk by chunk at its offset.
    let chunkFiles: [Int: OpenFile]

    let condition = NSCondition()
    // Guarded by `condition`.
    private var next = 0
    var inFlight = 0
    private var running = 0
    private var stopped = false
    private var finished: [Int: Result<DoneUnit, Error>] = [:]
    private var spare: [AnonymousMemory] = []
    private var writeFailure: Error?
    /// Work-tree writes started and not finished.
    private var writing = 0
    private let mappingLock = NSLock()
    /// Writes work-tree copies one after another: the disk takes one stream at its full
    /// speed, and a worker waiting for it would leave its core idle.
    private let writer = DispatchQueue(label: "mv.ingest.writer")

    /// Chunked tensors whose work-tree file is patched in place: only changed chunks are
    /// written, each to a file of its own.
    let patchedInPlace: Set<Int>
    /// The repository's fingerprints of stored blobs, when it keeps them.
    let fingerprints: TensorFingerprints?
    /// Where new tensor bytes go with LFS storage (nil: into the pack as blobs).
    let lfs: LFSObjectStore?

    init(
        units: [Unit], plans: [TensorPlan], previous: [String: PreviousTensor], staging: URL, budget: Int,
        patchedInPlace: Set<Int> = [], fingerprints: TensorFingerprints? = nil, lfs: LFSObjectStore? = nil
    ) throws {
        self.lfs = lfs
        self.patchedInPlace = patchedInPlace
        self.fingerprints = fingerprints
        self.units = units
        self.plans = plans
        self.previous = previous
        self.staging = staging
        self.budget = budget
        var stamps: [String: FileStamp] = [:]
        for plan in plans where stamps[plan.source.path] == nil {
            stamps[plan.source.path] = try FileStamp.of(plan.source.path)
        }
        self.stamps = stamps
        var chunkFiles: [Int: OpenFile] = [:]
        for tensor in Set(units.filter { $0.chunk != nil }.map(\.tensor)).subtracting(patchedInPlace) {
            let file = try OpenFile(staging.appendingPathComponent("\(UUID().uuidString).npy").path, flags: O_WRONLY | O_CREAT | O_TRUNC)
            try file.resize(to: plans[tensor].size)
            chunkFiles[tensor] = file
        }
        self.chunkFiles = chunkFiles
    }

    deinit {
        for buffer in spare { buffer.release() }
    }

    func start(workers: Int) {
        condition.lock()
        running = max(1, min(workers, units.count))
        condition.unlock()
        for number in 0..<max(1, min(workers, units.count)) {
            let thread = Thread { [self] in work() }
            thread.name = "mv.ingest.\(number)"
            thread.start()
        }
    }

    /// The first finished unit `isTakeable` accepts (or the first that failed: its error is
    /// thrown), waiting for one. Units finish out of order; the consumer decides which it can
    /// use now.
    func takeReady(_ isTakeable: (Int) -> Bool) throws -> (position: Int, unit: DoneUnit) {
        condition.lock()
        while true {
            let ready = finished.keys.filter { position in
                if case .failure = finished[position] { return true }
                return isTakeable(position)
            }
            if let position = ready.min(), let result = finished.removeValue(forKey: position) {
                condition.unlock()
                return (position, try result.get())
            }
            condition.wait()
        }
    }

    func release(_ done: DoneUnit) {
        // Still being written to the work tree: the worker returns it when that is done.
        if let shared = done.write, !shared.done() { return }
        reclaim(done)
    }

    func reclaim(_ done: DoneUnit) {
        condition.lock()
        if let buffer = done.buffer { recycle(buffer) }
        inFlight -= done.cost
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for the work-tree writes still running, then throws the first that failed.
    /// Call once every unit was taken and released.
    func checkWrites() throws {
        condition.lock()
        while writing > 0 { condition.wait() }
        let failure = writeFailure
        condition.unlock()
        if let failure { throw failure }
    }

    /// Stops the workers after their current unit, waits for them, and frees what nobody took.
    func stopAndDrain() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while running > 0 || writing > 0 { condition.wait() }
        for result in finished.values {
            if case .success(let done) = result, let buffer = done.buffer { recycle(buffer) }
        }
        finished.removeAll()
        condition.unlock()
    }

    func cost(_ unit: Unit) -> Int { max(1, unit.range.count) }

    private func work() {
        while true {
            condition.lock()
            while !stopped, next < units.count, inFlight > 0, inFlight + cost(units[next]) > budget { condition.wait() }
            guard !stopped, next < units.count else {
                running -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            let position = next
            next += 1
            inFlight += cost(units[position])
            condition.unlock()

            var pendingWrite: (() throws -> Void)?
            let result = Result { () throws -> DoneUnit in
                var (done, write) = try process(units[position])
                if let write {
                    done.write = SharedBuffer()
                    pendingWrite = write
                }
                return done
            }
            condition.lock()
            if case .failure = result { inFlight -= cost(units[position]) }
            if pendingWrite != nil, case .success = result { writing += 1 }
            finished[position] = result
            condition.broadcast()
            condition.unlock()
            // Written by the writer thread while this worker hashes the next unit and the
            // packing thread appends this one to the pack.
            if let pendingWrite, case .success(let done) = result {
                let write = UncheckedWrite(run: pendingWrite)
                writer.async { [self] in
                    var failure: Error?
                    do { try write.run() } catch { failure = error }
                    condition.lock()
                    if let failure { writeFailure = writeFailure ?? failure }
                    writing -= 1
                    condition.broadcast()
                    condition.unlock()
                    if let shared = done.write, shared.done() { reclaim(done) }
                }
            }
        }
    }

    /// A spare buffer of at least `count` bytes, or a new one.
    func obtain(_ count: Int) throws -> AnonymousMemory {
        condition.lock()
        let fitting = spare.indices.filter { spare[$0].capacity >= count }.min { spare[$0].capacity < spare[$1].capacity }
        if let fitting {
            let buffer = spare.remove(at: fitting)
            condition.unlock()
            return buffer
        }
        condition.unlock()
        // One thread at a time: workers mapping and populating at once contend in the kernel
        // (4 × 8 MiB on the measured machine: 10-25 ms each at once, 0.3 ms each in turn).
        mappingLock.lock()
        defer { mappingLock.unlock() }
        return try AnonymousMemory(count: count)
    }

    /// Keeps `buffer` for reuse while spares stay within the budget. Call with the lock held.
    func recycle(_ buffer: AnonymousMemory) {
        spare.append(buffer)
        spare.sort { $0.capacity > $1.capacity }
        while spare.reduce(0, { $0 + $1.capacity }) > budget, let smallest = spare.popLast() {
            smallest.release()
        }
    }
}
