import Crypto
import Foundation
import Git
import ModelFormat
#if canImport(Glibc)
import Glibc
#endif

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
    fileprivate let buffer: Buffer?
    fileprivate let cost: Int
    /// The source mapping `bytes` points into, when it was not read into `buffer`.
    fileprivate var mapped: MappedSource? = nil
    /// Set while the worker still writes the work-tree copy from `buffer`.
    fileprivate var write: SharedBuffer?
}

/// A work-tree write handed to the writer thread (it only touches its own file and buffer).
private struct UncheckedWrite: @unchecked Sendable {
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

/// Memory for one unit, from the kernel (malloc would keep freed multi-MiB blocks in
/// per-thread arenas) and reused across units: fresh pages cost a fault and zeroing each,
/// which on these VMs is slower than the copy into them.
struct Buffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let capacity: Int
    /// The whole mapping, larger than `capacity` when aligned for huge pages.
    let mapping: UnsafeMutableRawPointer
    let mappingLength: Int

    func unmap() { munmap(mapping, mappingLength) }
}

/// A unit's bytes straight from the page cache: a private map of its range of the source,
/// with the .npy header mv writes for a safetensors tensor copied over the bytes just before
/// its data (copy-on-write: only that page is copied). Reading into a buffer cost a copy and,
/// on these VMs, fresh pages for the buffer: zeroing them was 14% of the CPU of registering
/// a version with 4 changed tensors.
final class MappedSource: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    private let mapping: UnsafeMutableRawPointer
    private let length: Int

    /// Nil where the bytes before the data cannot hold the header, or the file is shorter
    /// than planned (the buffered read then reports it).
    init?(_ plan: TensorPlan, range: Range<Int>, fd: Int32) {
        let start = plan.sourceOffset + range.lowerBound - plan.prefix.count
        var info = stat()
        guard !range.isEmpty, start >= 0, fstat(fd, &info) == 0, Int(info.st_size) >= start + range.count else { return nil }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let aligned = start - start % page
        length = range.count + (start - aligned)
        guard let mapping = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, off_t(aligned)), mapping != MAP_FAILED else {
            return nil
        }
        self.mapping = mapping
        let base = mapping + (start - aligned)
        if range.lowerBound < plan.prefix.count {
            let header = plan.prefix[range.lowerBound..<min(plan.prefix.count, range.upperBound)]
            header.withUnsafeBytes { header in
                if let source = header.baseAddress { base.copyMemory(from: source, byteCount: header.count) }
            }
        }
        bytes = UnsafeRawBufferPointer(start: base, count: range.count)
    }

    deinit { munmap(mapping, length) }
}

/// Size, inode and times of an input file, to notice it being rewritten while it is read.
struct SourceStamp: Sendable, Equatable {
    let size: Int64
    let inode: UInt64
    let modified: Int
    let modifiedNanoseconds: Int

    init(of url: URL) throws {
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            throw MVError("cannot read '\(url.path)': \(String(cString: strerror(errno)))")
        }
        size = Int64(info.st_size)
        inode = UInt64(info.st_ino)
        modified = info.st_mtim.tv_sec
        modifiedNanoseconds = info.st_mtim.tv_nsec
    }

    func verifyUnchanged(_ url: URL) throws {
        guard try SourceStamp(of: url) == self else {
            throw MVError("'\(url.path)' changed while it was being stored; nothing was committed",
                          hint: "wait for whatever writes it to finish, then run the command again")
        }
    }
}

/// Worker threads that read units in order and process them, with at most `budget` bytes of
/// buffers alive at once; the consumer takes results as they finish (`takeReady`).
final class UnitQueue: @unchecked Sendable {
    private let units: [Unit]
    private let plans: [TensorPlan]
    private let previous: [String: PreviousTensor]
    private let staging: URL
    private let budget: Int
    /// Source files' stamps taken before reading.
    let stamps: [String: SourceStamp]
    /// The work-tree copy of each chunked tensor, written chunk by chunk at its offset.
    private let chunkFiles: [Int: (url: URL, fd: Int32)]

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var next = 0
    private var inFlight = 0
    private var running = 0
    private var stopped = false
    private var finished: [Int: Result<DoneUnit, Error>] = [:]
    private var spare: [Buffer] = []
    private var writeFailure: Error?
    /// Work-tree writes started and not finished.
    private var writing = 0
    private let mappingLock = NSLock()
    /// Writes work-tree copies one after another: the disk takes one stream at its full
    /// speed, and a worker waiting for it would leave its core idle.
    private let writer = DispatchQueue(label: "mv.ingest.writer")

    /// Chunked tensors whose work-tree file is patched in place: only changed chunks are
    /// written, each to a file of its own.
    private let patchedInPlace: Set<Int>
    /// The repository's fingerprints of stored blobs, when it keeps them.
    private let fingerprints: TensorFingerprints?

    init(units: [Unit], plans: [TensorPlan], previous: [String: PreviousTensor], staging: URL, budget: Int,
         patchedInPlace: Set<Int> = [], fingerprints: TensorFingerprints? = nil) throws {
        self.patchedInPlace = patchedInPlace
        self.fingerprints = fingerprints
        self.units = units
        self.plans = plans
        self.previous = previous
        self.staging = staging
        self.budget = budget
        var stamps: [String: SourceStamp] = [:]
        for plan in plans where stamps[plan.source.path] == nil {
            stamps[plan.source.path] = try SourceStamp(of: plan.source)
        }
        self.stamps = stamps
        var chunkFiles: [Int: (url: URL, fd: Int32)] = [:]
        for tensor in Set(units.filter { $0.chunk != nil }.map(\.tensor)).subtracting(patchedInPlace) {
            let url = staging.appendingPathComponent("\(UUID().uuidString).npy")
            let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0, ftruncate(fd, off_t(plans[tensor].size)) == 0 else {
                for file in chunkFiles.values { close(file.fd) }
                throw MVError("cannot create '\(url.path)': \(String(cString: strerror(errno)))")
            }
            chunkFiles[tensor] = (url, fd)
        }
        self.chunkFiles = chunkFiles
    }

    deinit {
        for file in chunkFiles.values { close(file.fd) }
        for buffer in spare { buffer.unmap() }
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

    private func reclaim(_ done: DoneUnit) {
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

    private func cost(_ unit: Unit) -> Int { max(1, unit.range.count) }

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

    /// The unit's result, and the write of its work-tree copy still to do (the unit can be
    /// packed meanwhile).
    private func process(_ unit: Unit) throws -> (DoneUnit, (() throws -> Void)?) {
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
        let source = open(plan.source.path, O_RDONLY | O_CLOEXEC)
        guard source >= 0 else { throw MVError("cannot read '\(plan.source.path)': \(String(cString: strerror(errno)))") }
        defer { close(source) }
        // The bytes where the page cache holds them, else read into a buffer.
        let mapped = MappedSource(plan, range: unit.range, fd: source)
        let buffer = mapped == nil ? try obtain(cost(unit)) : nil
        do {
            var bytes = mapped?.bytes ?? UnsafeRawBufferPointer(start: nil, count: 0)
            if let buffer {
                try plan.read(unit.range, into: buffer.pointer, fd: source)
                bytes = UnsafeRawBufferPointer(start: buffer.pointer, count: count)
            }
            func finished(_ kind: DoneUnit.Kind, cost: Int) -> DoneUnit {
                var done = DoneUnit(kind: kind, bytes: bytes, buffer: buffer, cost: cost)
                done.mapped = mapped
                return done
            }
            if plan.prefix.isEmpty && unit.range.lowerBound == 0 { try checkHeader(bytes, plan) }

            if let chunk = unit.chunk, patchedInPlace.contains(unit.tensor) {
                let (reused, fingerprint) = try reusableChunk(plan, chunk: chunk, range: unit.range, bytes: bytes)
                if let id = reused {
                    return (finished(.chunk(nil, id: id, fingerprint: nil, stagedFile: nil, patch: nil), cost: cost(unit)), nil)
                }
                let blob = try ObjectDatabase.hash(blob: bytes)
                let url = staging.appendingPathComponent("\(UUID().uuidString).chunk")
                let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw MVError("cannot create '\(url.path)': \(String(cString: strerror(errno)))") }
                defer { close(fd) }
                try Self.writeBypassingCache(bytes, to: url.path, at: 0, fd: fd)
                return (finished(.chunk(blob, id: blob.id, fingerprint: fingerprint, stagedFile: nil, patch: url),
                                 cost: cost(unit) + holding(blob)), nil)
            }
            if let chunk = unit.chunk, let staged = chunkFiles[unit.tensor] {
                try Self.writeBypassingCache(bytes, to: staged.url.path, at: unit.range.lowerBound, fd: staged.fd)
                let (reused, fingerprint) = try reusableChunk(plan, chunk: chunk, range: unit.range, bytes: bytes)
                if let id = reused {
                    return (finished(.chunk(nil, id: id, fingerprint: nil, stagedFile: staged.url, patch: nil), cost: cost(unit)), nil)
                }
                let blob = try ObjectDatabase.hash(blob: bytes)
                return (finished(.chunk(blob, id: blob.id, fingerprint: fingerprint, stagedFile: staged.url, patch: nil),
                                 cost: cost(unit) + holding(blob)), nil)
            }

            // The same bytes: the source is checked unchanged once everything is read.
            let sha256 = digest ?? {
                var hasher = SHA256()
                hasher.update(bufferPointer: bytes)
                return ContentHash.hex(hasher.finalize())
            }()
            let blob = try ObjectDatabase.hash(blob: bytes)
            var statistics = TensorStatistics.Accumulator()
            let bodyStart = min(plan.header.headerLength, count)
            let body = UnsafeRawBufferPointer(rebasing: bytes[bodyStart...])
            statistics.add(raw: UnsafeRawBufferPointer(rebasing: body[..<(body.count - body.count % plan.dtype.itemSize)]), dtype: plan.dtype)
            let fingerprint = fingerprints.flatMap { TensorFingerprinter.fingerprint(of: bytes, key: $0.key) }
            let url = staging.appendingPathComponent("\(UUID().uuidString).npy")
            let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw MVError("cannot create '\(url.path)': \(String(cString: strerror(errno)))") }
            let write = {
                defer { close(fd) }
                try Self.writeBypassingCache(bytes, to: url.path, at: 0, fd: fd)
            }
            return (finished(.whole(blob, sha256: sha256, statistics: statistics.result, fingerprint: fingerprint, stagedFile: url), cost: cost(unit) + holding(blob)),
                    write)
        } catch {
            if let buffer {
                condition.lock()
                recycle(buffer)
                condition.unlock()
            }
            throw error
        }
    }

    /// Counts a blob's deflated stream against the budget until the packing thread releases
    /// it, so workers wait before reading more (compressible data holds both copies).
    private func holding(_ blob: HashedBlob) -> Int {
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
            let fd = open(plan.source.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw MVError("cannot read '\(plan.source.path)': \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            try ByteComparison.withMapping(fd, offset: plan.sourceOffset + position - plan.prefix.count, count: range.upperBound - position) {
                hasher.update(bufferPointer: UnsafeRawBufferPointer(start: $0, count: range.upperBound - position))
            }
        }
        return ContentHash.hex(hasher.finalize())
    }

    /// A spare buffer of at least `count` bytes, or a new one.
    private func obtain(_ count: Int) throws -> Buffer {
        condition.lock()
        let fitting = spare.indices.filter { spare[$0].capacity >= count }.min { spare[$0].capacity < spare[$1].capacity }
        if let fitting {
            let buffer = spare.remove(at: fitting)
            condition.unlock()
            return buffer
        }
        condition.unlock()
        let capacity = (max(count, 1) + (1 << 20) - 1) / (1 << 20) * (1 << 20)
        // Buffers of 2 MiB and more sit on 2 MiB boundaries and ask for transparent huge
        // pages: 4 faults instead of 2,048 for 8 MiB, and as cheap to free at the end.
        let huge = 2 << 20
        let alignment = capacity >= huge ? huge : 0
        let length = capacity + alignment
        // One thread at a time: workers mapping and populating at once contend in the kernel
        // (4 × 8 MiB here: 10-25 ms each at once, 0.3 ms each in turn).
        mappingLock.lock()
        defer { mappingLock.unlock() }
        guard let mapping = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), mapping != MAP_FAILED else {
            throw MVError("cannot allocate \(capacity) bytes: \(String(cString: strerror(errno)))")
        }
        var pointer = mapping
        if alignment > 0 {
            pointer = mapping + (alignment - Int(bitPattern: mapping) % alignment) % alignment
            _ = madvise(pointer, capacity / huge * huge, MADV_HUGEPAGE)
        }
        // The pages about to be filled, faulted in by one call rather than one fault per page.
        // Older kernels refuse the advice; the pages then fault in as they are touched.
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        _ = madvise(pointer, (max(count, 1) + page - 1) / page * page, Self.populateWrite)
        return Buffer(pointer: pointer, capacity: capacity, mapping: mapping, mappingLength: length)
    }

    /// Keeps `buffer` for reuse while spares stay within the budget. Call with the lock held.
    private func recycle(_ buffer: Buffer) {
        spare.append(buffer)
        spare.sort { $0.capacity > $1.capacity }
        while spare.reduce(0, { $0 + $1.capacity }) > budget, let smallest = spare.popLast() {
            smallest.unmap()
        }
    }

    /// A .npy given as input is stored as read: its header must still be the one validated.
    private func checkHeader(_ bytes: UnsafeRawBufferPointer, _ plan: TensorPlan) throws {
        let header: NpyHeader
        do {
            header = try NpyHeader.parse(prefix: Data(bytes.prefix(plan.header.headerLength)),
                                         fileName: plan.source.lastPathComponent, fileSize: plan.size)
        } catch {
            throw MVError("\(error)")
        }
        guard header == plan.header else {
            throw MVError("'\(plan.source.path)' changed while it was being stored; nothing was committed")
        }
    }

    /// The previous version's id for this chunk when it holds exactly these bytes, and the
    /// bytes' fingerprint when the repository keeps fingerprints. The bytes are in memory
    /// already (the tensor's SHA-256 needs them), so where the old chunk has a fingerprint on
    /// record that settles it at memory speed; otherwise they are compared with the trusted
    /// work-tree file, which mv wrote around the page cache (a read from disk).
    private func reusableChunk(_ plan: TensorPlan, chunk: Int, range: Range<Int>,
                               bytes: UnsafeRawBufferPointer) throws -> (id: ObjectID?, fingerprint: String?) {
        let fingerprint = fingerprints.flatMap { TensorFingerprinter.fingerprint(of: bytes, key: $0.key) }
        guard let before = previous[plan.name], let size = before.record.chunkBytes, size == plan.chunkBytes,
              chunk < before.blobs.count, chunk * size == range.lowerBound,
              min((chunk + 1) * size, before.record.bytes) == range.upperBound else { return (nil, fingerprint) }
        let old = before.blobs[chunk]
        if let fingerprint, let recorded = fingerprints?.fingerprint(of: old) {
            return (fingerprint == recorded ? old : nil, fingerprint)
        }
        guard let work = before.workFile, try ByteComparison.equal(bytes, file: work, offset: range.lowerBound) else {
            return (nil, fingerprint)
        }
        return (old, fingerprint)
    }

    /// Writes the page-aligned bulk of `bytes` with O_DIRECT and the rest through `fd`.
    ///
    /// Why: mv does not read the work-tree copy again, so the CPU need not copy it into the
    /// page cache nor the kernel flush it later; the disk reads it from memory itself.
    /// (Whole 8 MiB buffered writes were several times slower here: the kernel backs them
    /// with large folios. Buffered in 1 MiB pieces they are about as fast as direct ones.)
    /// Bytes not on a page boundary (mapped from a safetensors file) go through an aligned
    /// buffer. Where the file system refuses O_DIRECT, everything goes through `fd`.
    private static func writeBypassingCache(_ bytes: UnsafeRawBufferPointer, to path: String, at offset: Int, fd: Int32) throws {
        let block = 4096
        var direct = 0
        if let base = bytes.baseAddress, offset % block == 0, bytes.count >= block {
            let directFD = open(path, O_WRONLY | Self.directFlag | O_CLOEXEC)
            if directFD >= 0 {
                defer { close(directFD) }
                let aligned = bytes.count / block * block
                let bounce = Int(bitPattern: base) % block == 0 ? nil : bounceBuffers.take()
                defer { if let bounce { bounceBuffers.give(bounce) } }
                while direct < aligned {
                    var source = UnsafeRawPointer(base + direct)
                    var count = aligned - direct
                    if let bounce {
                        count = min(count, BounceBuffers.size)
                        bounce.copyMemory(from: source, byteCount: count)
                        source = UnsafeRawPointer(bounce)
                    }
                    let n = pwrite(directFD, source, count, off_t(offset + direct))
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 || n % block != 0 {
                        // Refused (EINVAL) or short: the rest goes through the page cache.
                        if n > 0 { direct += n }
                        break
                    }
                    direct += n
                }
            }
        }
        try DirectFileWriter.writeAll(fd, UnsafeRawBufferPointer(rebasing: bytes[direct...]), at: offset + direct, path: path)
    }

    /// Aligned buffers for direct writes of unaligned bytes, kept for the next write.
    final class BounceBuffers: @unchecked Sendable {
        /// Direct writes of 1 MiB ran at a quarter of the disk's speed here (each waits for
        /// the device); 4 MiB ones reach it. Smaller is better otherwise: on these VMs a fresh
        /// page costs ~2.5 µs (the host backs it again).
        static let size = 4 << 20
        private let lock = NSLock()
        private var spare: [UnsafeMutableRawPointer] = []

        func take() -> UnsafeMutableRawPointer {
            lock.lock()
            defer { lock.unlock() }
            return spare.popLast() ?? .allocate(byteCount: Self.size, alignment: 4096)
        }

        func give(_ buffer: UnsafeMutableRawPointer) {
            lock.lock()
            defer { lock.unlock() }
            spare.append(buffer)
        }
    }

    private static let bounceBuffers = BounceBuffers()

    /// Linux's MADV_POPULATE_WRITE (5.14), newer than Glibc's Swift module.
    private static let populateWrite: Int32 = 23

    private static var directFlag: Int32 { DirectFileWriter.directFlag }

}
