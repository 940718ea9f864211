import CLinux
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Part of a file mapped into memory (MAP_PRIVATE), unmapped when the value is released.
/// Read-only, or writable copy-on-write: a write changes this process's view only.
public final class MappedRegion: @unchecked Sendable {
    /// The bytes asked for: `count` bytes of the file from `offset`.
    public let bytes: UnsafeMutableRawBufferPointer
    /// Where in the file `bytes` starts.
    public let offset: Int
    private let mapping: UnsafeMutableRawPointer
    private let length: Int
    /// The file offset of `mapping` (page-aligned).
    private let mappingOffset: Int

    public static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    public init(_ file: OpenFile, offset: Int, count: Int, writable: Bool = false) throws {
        precondition(offset >= 0 && count > 0)
        let aligned = offset - offset % Self.pageSize
        let length = count + (offset - aligned)
        let protection = writable ? PROT_READ | PROT_WRITE : PROT_READ
        guard let mapping = mmap(nil, length, protection, MAP_PRIVATE, file.descriptor, off_t(aligned)), mapping != MAP_FAILED else {
            throw SystemError(call: "mmap", path: file.path, code: errno)
        }
        self.mapping = mapping
        self.length = length
        mappingOffset = aligned
        self.offset = offset
        bytes = UnsafeMutableRawBufferPointer(start: mapping + (offset - aligned), count: count)
    }

    deinit { munmap(mapping, length) }

    /// The mapped byte at file offset `fileOffset` (inside the region).
    public func pointer(atFileOffset fileOffset: Int) -> UnsafeRawPointer {
        UnsafeRawPointer(mapping + (fileOffset - mappingOffset))
    }

    /// Tells the kernel the region will be read front to back (more readahead, pages
    /// dropped sooner behind the reader).
    public func willReadSequentially() {
        _ = madvise(mapping, length, MADV_SEQUENTIAL)
    }

    /// Asks the kernel to read the pages behind file range `range` ahead, in order.
    public func willRead(_ range: Range<Int>) {
        let first = (range.lowerBound - mappingOffset) / Self.pageSize * Self.pageSize
        let pointer = mapping + first
        let count = range.upperBound - mappingOffset - first
        _ = madvise(pointer, count, MADV_SEQUENTIAL)
        _ = madvise(pointer, count, MADV_WILLNEED)
    }

    /// Whether the pages behind file range `range` are in the page cache (sampled: see
    /// `PageCache.isResident`).
    public func isResident(_ range: Range<Int>) -> Bool {
        PageCache.isResident(pointer(atFileOffset: range.lowerBound), count: range.count)
    }

    /// Calls `body` with `count` bytes of `file` from `offset`, mapped read-only for the call.
    public static func reading<T>(_ file: OpenFile, offset: Int, count: Int, _ body: (UnsafeRawPointer) throws -> T) throws -> T {
        let region = try MappedRegion(file, offset: offset, count: count)
        region.willReadSequentially()
        return try withExtendedLifetime(region) { try body(UnsafeRawPointer(region.bytes.baseAddress ?? region.mapping)) }
    }
}

/// Memory straight from the kernel (an anonymous map) rather than malloc, which would keep
/// freed multi-MiB blocks in per-thread arenas. Buffers of 2 MiB and more sit on 2 MiB
/// boundaries and ask for transparent huge pages (4 faults instead of 2,048 for 8 MiB, and as
/// cheap to free). Freed by `release()`: the owner decides when, as buffers are reused.
public struct AnonymousMemory: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public let capacity: Int
    /// The whole mapping, larger than `capacity` when aligned for huge pages.
    private let mapping: UnsafeMutableRawPointer
    private let mappingLength: Int

    /// At least `count` bytes (rounded up to whole MiB), the first `count` of them faulted in
    /// writable by one call rather than one fault per page.
    public init(count: Int) throws {
        let capacity = (max(count, 1) + (1 << 20) - 1) / (1 << 20) * (1 << 20)
        let huge = 2 << 20
        let alignment = capacity >= huge ? huge : 0
        let length = capacity + alignment
        guard let mapping = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), mapping != MAP_FAILED else {
            throw SystemError(call: "mmap", path: nil, code: errno)
        }
        var pointer = mapping
        if alignment > 0 {
            pointer = mapping + (alignment - Int(bitPattern: mapping) % alignment) % alignment
            _ = madvise(pointer, capacity / huge * huge, mv_linux_MADV_HUGEPAGE)
        }
        // Older kernels refuse the advice; the pages then fault in as they are touched.
        let page = MappedRegion.pageSize
        _ = madvise(pointer, (max(count, 1) + page - 1) / page * page, mv_linux_MADV_POPULATE_WRITE)
        self.pointer = pointer
        self.capacity = capacity
        self.mapping = mapping
        mappingLength = length
    }

    public func release() { munmap(mapping, mappingLength) }
}
