import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a blob's content lies, uncompressed, inside a pack file: the byte ranges of the
/// stored deflate blocks that hold it, in order, and those bytes themselves through a read-only
/// memory map of the pack. mv writes float tensors this way, and `git gc` keeps the data as it
/// is, so comparing new bytes with a stored blob needs no decompression and no hashing.
public struct StoredBlob: Sendable {
    public let packFile: URL
    /// Ranges of the pack file that, concatenated, are the blob's content.
    public let segments: [Range<Int>]
    private let mapping: PackMapping

    fileprivate init(packFile: URL, segments: [Range<Int>], mapping: PackMapping) {
        self.packFile = packFile
        self.segments = segments
        self.mapping = mapping
    }

    /// The bytes of `segment` (one of `segments`), valid while this value is alive.
    public func bytes(_ segment: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: mapping.base + (segment.lowerBound - mapping.fileOffset), count: segment.count)
    }

    /// The ranges holding the content's first `count` bytes.
    public func prefix(_ count: Int) -> StoredBlob {
        var remaining = count
        var kept: [Range<Int>] = []
        for segment in segments where remaining > 0 {
            let length = min(segment.count, remaining)
            kept.append(segment.lowerBound..<(segment.lowerBound + length))
            remaining -= length
        }
        return StoredBlob(packFile: packFile, segments: kept, mapping: mapping)
    }
}

/// A read-only map of part of a pack file, unmapped with the last blob that uses it.
private final class PackMapping: @unchecked Sendable {
    let base: UnsafeRawPointer
    /// Where in the file `base` is.
    let fileOffset: Int
    private let length: Int

    init?(fd: Int32, offset: Int, count: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let aligned = offset - offset % page
        length = count + (offset - aligned)
        guard length > 0, let mapping = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, off_t(aligned)), mapping != MAP_FAILED else {
            return nil
        }
        base = UnsafeRawPointer(mapping)
        fileOffset = aligned
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), length) }

    /// Whether the pages behind `range` of the file are in the page cache.
    func isResident(_ range: Range<Int>) -> Bool {
        PageCache.isResident(base + (range.lowerBound - fileOffset), count: range.count)
    }
}

/// Finds blobs stored uncompressed in the repository's packs, reading `.idx` files and
/// object headers directly. Any thread may use it (it only reads files); a blob that is
/// loose, deflated, a delta, or in a pack it cannot parse is simply not found.
public final class StoredBlobLocator: Sendable {
    private let indexes: [PackIndex.File]

    public init(_ objects: ObjectDatabase) throws {
        let packs = try objects.objectsDirectory().appendingPathComponent("pack")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: packs.path)) ?? []
        indexes = names.filter { $0.hasPrefix("pack-") && $0.hasSuffix(".idx") }.sorted()
            .compactMap { PackIndex.File.open(packs.appendingPathComponent($0)) }
    }

    /// The stored blocks of blob `id` when it is in a pack as a whole object of `size` bytes
    /// held in stored (uncompressed) deflate blocks; nil otherwise.
    /// With `prefix`, only the blocks holding the first `prefix` bytes are walked (and
    /// returned). With `inMemoryOnly`, a blob whose pack pages are not in the page cache is
    /// not found either (reading it from disk would cost more than hashing the new bytes).
    public func locate(_ id: ObjectID, size: Int, prefix: Int? = nil, inMemoryOnly: Bool = false) -> StoredBlob? {
        for index in indexes {
            guard let offset = index.offset(of: id) else { continue }
            return Self.storedSegments(in: index.packURL, at: Int(offset), size: size, prefix: min(prefix ?? size, size),
                                       inMemoryOnly: inMemoryOnly)
        }
        return nil
    }

    /// Walks the object at `offset` in a memory map: header (type blob, the expected size),
    /// zlib header, then stored blocks only (BTYPE 00) whose lengths add up to `size`.
    private static func storedSegments(in pack: URL, at offset: Int, size: Int, prefix: Int, inMemoryOnly: Bool) -> StoredBlob? {
        let fd = open(pack.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, offset >= 0, offset < Int(info.st_size) else { return nil }
        // Object header (at most 10 bytes), zlib header, the content and a 5-byte header per
        // block of at least 1 byte: past the prefix's blocks nothing is read.
        let reach = 12 + prefix + 5 * (prefix / 65_535 + 2)
        let end = min(Int(info.st_size), offset + reach)
        guard let mapping = PackMapping(fd: fd, offset: offset, count: end - offset) else { return nil }
        if inMemoryOnly && !mapping.isResident(offset..<end) { return nil }
        var position = offset

        func byte() -> UInt8? {
            defer { position += 1 }
            return mapping.base.load(fromByteOffset: position - mapping.fileOffset, as: UInt8.self)
        }

        // Pack object header: type in bits 4-6 of the first byte, size in 4 + 7k bits.
        guard let first = byte(), (first >> 4) & 7 == 3 else { return nil }
        var objectSize = Int(first & 0x0F)
        var shift = 4
        var current = first
        while current & 0x80 != 0 {
            guard shift < 57, let next = byte() else { return nil }
            current = next
            objectSize |= Int(current & 0x7F) << shift
            shift += 7
        }
        guard objectSize == size, let cmf = byte(), let flags = byte() else { return nil }
        // Deflate, no preset dictionary, valid header check.
        guard cmf & 0x0F == 8, cmf >> 4 <= 7, flags & 0x20 == 0, (Int(cmf) << 8 | Int(flags)) % 31 == 0 else { return nil }

        var segments: [Range<Int>] = []
        var total = 0
        func result() -> StoredBlob { StoredBlob(packFile: pack, segments: segments, mapping: mapping).prefix(prefix) }
        while true {
            guard let final = byte(), (final >> 1) & 3 == 0, let l0 = byte(), let l1 = byte(), let n0 = byte(), let n1 = byte() else { return nil }
            let length = Int(l0) | Int(l1) << 8
            guard Int(n0) | Int(n1) << 8 == length ^ 0xFFFF, total + length <= size else { return nil }
            // Only the bytes up to the prefix are kept (and must be in the mapped part).
            let needed = max(0, min(length, prefix - total))
            guard position + needed <= end else { return nil }
            if needed > 0 {
                if let last = segments.last, last.upperBound == position {
                    segments[segments.count - 1] = last.lowerBound..<(position + needed)
                } else {
                    segments.append(position..<(position + needed))
                }
            }
            position += length
            total += length
            if total >= prefix && total < size { return result() }
            if final & 1 == 1 { break }
        }
        guard total == size else { return nil }
        return result()
    }
}
