import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What the kernel holds in memory of a file mapped into this process.
public enum PageCache {
    /// Whether the mapped bytes at `pointer` are in the page cache, judged from one page in
    /// every 512 KiB and the last one: files leave the cache whole far more often than in
    /// part, and a wrong guess only costs speed (the rest is then read from disk). Asking
    /// for every page cost a page-cache lookup per 4 KiB, a quarter of a comparison's time.
    public static func isResident(_ pointer: UnsafeRawPointer, count: Int) -> Bool {
        guard count > 0 else { return true }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = Int(bitPattern: pointer)
        var probes = Array(stride(from: start, to: start + count, by: 512 << 10))
        probes.append(start + count - 1)
        var state: UInt8 = 0
        for address in probes {
            guard let pageStart = UnsafeMutableRawPointer(bitPattern: address / page * page),
                mincore(pageStart, 1, &state) == 0, state & 1 != 0
            else { return false }
        }
        return true
    }
}

/// A buffer of one file's bytes read with `pread` and refilled as the reader moves forward:
/// for comparing big files whose pages are already in memory. Mapping them instead cost as
/// much as the comparison itself (a fault per 64 KiB, unmapping, and the other core's TLB
/// flushed at every unmap); a copy into a buffer that stays in the CPU's cache costs less.
/// Not for sharing between threads.
public final class ReadWindow {
    private let buffer: UnsafeMutableRawPointer
    public let capacity: Int
    /// The file the buffer holds bytes of; kept open as long as they are.
    private var file: OpenFile?
    private var start = 0
    private var filled = 0

    public init(capacity: Int) {
        self.capacity = max(capacity, 4096)
        buffer = .allocate(byteCount: self.capacity, alignment: 4096)
    }

    deinit { buffer.deallocate() }

    /// Outcomes of reading only from the page cache.
    public enum Failure: Error {
        /// Part of the range is not in memory (or the file ends before it).
        case notInMemory
        /// The file system cannot read without waiting for the disk.
        case unsupported
    }

    /// `count` bytes (at most `capacity`) of `file` from `offset`, valid until the next call;
    /// nil when the file ends first. A refill reads ahead up to `capacity` bytes, or to
    /// `needed` when the caller knows it wants no more. With `cachedOnly`, only bytes the
    /// page cache holds are read: anything else throws `Failure`.
    public func bytes(_ file: OpenFile, at offset: Int, count: Int, needed: Int? = nil, cachedOnly: Bool = false) throws
        -> UnsafeRawBufferPointer?
    {
        precondition(count <= capacity && count >= 0 && offset >= 0)
        if file !== self.file || offset < start || offset + count > start + filled {
            self.file = file
            start = offset
            filled = 0
            let wanted = min(capacity, max(count, needed ?? capacity))
            while filled < count {
                let n: Int
                if cachedOnly {
                    do {
                        n = try file.readCached(into: buffer + filled, count: wanted - filled, at: offset + filled)
                    } catch let error as SystemError where error.code == EOPNOTSUPP || error.code == EINVAL {
                        throw Failure.unsupported
                    } catch let error as SystemError where error.code == EAGAIN {
                        throw Failure.notInMemory
                    }
                } else {
                    n = try file.read(into: buffer + filled, count: wanted - filled, at: offset + filled)
                }
                if n == 0 { break }
                filled += n
            }
            if filled < count { return nil }
        }
        return UnsafeRawBufferPointer(start: buffer + (offset - start), count: count)
    }
}
