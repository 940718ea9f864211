import Crypto
import Foundation
import ModelFormat
#if canImport(Glibc)
import Glibc
#endif

/// Writes a new file front to back around the page cache (O_DIRECT), from a few aligned
/// buffers that another thread writes out while the caller fills the next one.
///
/// Why: on these VMs a buffered write runs at ~300 MB/s once the kernel throttles dirty
/// pages to the disk, and every page it dirties is fresh memory the host first has to back;
/// the same disk takes direct writes at ~1.1 GB/s (`dd oflag=direct`), with no copy left in
/// memory. Exports and checked-out tensors are read again rarely enough that the page cache
/// gains nothing from them. Where the file system refuses O_DIRECT (tmpfs, some network
/// file systems), the same bytes go through the page cache instead.
final class DirectFileWriter: @unchecked Sendable {
    private let path: String
    private let fd: Int32
    private var directFD: Int32
    private static let bufferSize = 4 << 20
    private static let block = 4096
    /// Allocated as first needed: a small file uses one buffer.
    private var slots: [UnsafeMutableRawPointer] = []
    private let pending: [DispatchGroup]
    private var slot = 0
    private var filled = 0
    /// File offset of the current buffer's first byte.
    private var offset = 0
    private let writer = DispatchQueue(label: "mv.direct-writer")
    private let observer = DispatchQueue(label: "mv.direct-writer.observer")
    private let observe: (@Sendable (UnsafeRawBufferPointer) -> Void)?
    private let lock = NSLock()
    private var failure: Error?
    private var closed = false

    /// Creates (or truncates) `url`. `observe`, when given, sees every byte written, in
    /// order, on a thread of its own (e.g. to hash the whole file alongside).
    /// `direct: false` writes through the page cache (for tests of that path).
    init(creating url: URL, direct: Bool = true, observe: (@Sendable (UnsafeRawBufferPointer) -> Void)? = nil) throws {
        path = url.path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MVError("cannot write '\(path)': \(String(cString: strerror(errno)))") }
        directFD = direct ? open(path, O_WRONLY | Self.directFlag | O_CLOEXEC) : -1
        self.observe = observe
        pending = (0..<3).map { _ in DispatchGroup() }
    }

    deinit {
        for group in pending { group.wait() }
        for slot in slots { free(slot) }
        if !closed {
            close(fd)
            if directFD >= 0 { close(directFD) }
        }
    }

    /// Appends `bytes` to the file.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            if slot == slots.count {
                var memory: UnsafeMutableRawPointer?
                guard posix_memalign(&memory, Self.block, Self.bufferSize) == 0, let memory else {
                    throw MVError("cannot allocate \(Self.bufferSize) bytes to write '\(path)'")
                }
                slots.append(memory)
            }
            let count = min(Self.bufferSize - filled, bytes.count - done)
            (slots[slot] + filled).copyMemory(from: base + done, byteCount: count)
            filled += count
            done += count
            if filled == Self.bufferSize { try submit() }
        }
    }

    /// Writes what is buffered, waits for every write, optionally fsyncs, and closes.
    func finish(sync: Bool) throws {
        if filled > 0 { try submit() }
        for group in pending { group.wait() }
        try checkFailure()
        if sync && fsync(fd) != 0 { throw MVError("cannot write '\(path)': \(String(cString: strerror(errno)))") }
        closed = true
        if directFD >= 0 { close(directFD) }
        guard close(fd) == 0 else { throw MVError("cannot write '\(path)': \(String(cString: strerror(errno)))") }
    }

    /// Hands the current buffer to the writer thread and moves to the next, once that one's
    /// previous write is done.
    private func submit() throws {
        try checkFailure()
        // The address, not the array: `slots` grows on this thread meanwhile.
        let (address, count, at) = (Int(bitPattern: slots[slot]), filled, offset)
        let group = pending[slot]
        if let observe {
            observer.async(group: group) { observe(Self.bytes(address, count)) }
        }
        writer.async(group: group) { [self] in
            do { try writeOut(Self.bytes(address, count), at: at) } catch {
                lock.lock()
                failure = failure ?? error
                lock.unlock()
            }
        }
        offset += filled
        filled = 0
        slot = (slot + 1) % pending.count
        pending[slot].wait()
    }

    private static func bytes(_ address: Int, _ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: address), count: count)
    }

    private func checkFailure() throws {
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
    }

    /// The block-aligned bulk directly, the rest (only ever the file's end) through the page cache.
    private func writeOut(_ buffer: UnsafeRawBufferPointer, at offset: Int) throws {
        guard let base = buffer.baseAddress else { return }
        var done = 0
        let aligned = buffer.count / Self.block * Self.block
        while directFD >= 0 && done < aligned {
            let n = pwrite(directFD, base + done, aligned - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 || n % Self.block != 0 {
                // Refused (EINVAL on file systems without O_DIRECT) or short: buffered from here on.
                if n > 0 { done += n }
                close(directFD)
                directFD = -1
                break
            }
            done += n
        }
        try Self.writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[done...]), at: offset + done, path: path)
    }

    /// `pwrite` until every byte is written.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int, path: String) throws {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, base + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw MVError("cannot write '\(path)': \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    /// Linux's O_DIRECT, which Glibc's Swift module hides (it needs _GNU_SOURCE).
    #if arch(arm64)
    static let directFlag: Int32 = 0o200000
    #else
    static let directFlag: Int32 = 0o40000
    #endif
}

/// A SHA-256 fed from another thread (a `DirectFileWriter`'s observer), read once it is done.
final class StreamHasher: @unchecked Sendable {
    private var hasher = SHA256()

    func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    func hex() -> String { ContentHash.hex(hasher.finalize()) }
}
