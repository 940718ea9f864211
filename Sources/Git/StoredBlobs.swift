import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a blob's content lies, uncompressed, inside a pack file: the byte ranges of the
/// stored deflate blocks that hold it, in order. mv writes float tensors this way, and
/// `git gc` keeps the data as it is, so comparing new bytes with a stored blob needs no
/// decompression and no hashing.
public struct StoredBlob: Sendable {
    public let packFile: URL
    /// Ranges of the pack file that, concatenated, are the blob's content.
    public let segments: [Range<Int>]

    /// The ranges holding the content's first `count` bytes.
    public func prefix(_ count: Int) -> StoredBlob {
        var remaining = count
        var kept: [Range<Int>] = []
        for segment in segments where remaining > 0 {
            let length = min(segment.count, remaining)
            kept.append(segment.lowerBound..<(segment.lowerBound + length))
            remaining -= length
        }
        return StoredBlob(packFile: packFile, segments: kept)
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
    /// returned).
    public func locate(_ id: ObjectID, size: Int, prefix: Int? = nil) -> StoredBlob? {
        for index in indexes {
            guard let offset = index.offset(of: id) else { continue }
            return Self.storedSegments(in: index.packURL, at: offset, size: size, prefix: prefix ?? size)
        }
        return nil
    }

    /// Walks the object at `offset`: header (type blob, the expected size), zlib header, then
    /// stored blocks only (BTYPE 00) whose lengths add up to `size`.
    private static func storedSegments(in pack: URL, at offset: UInt64, size: Int, prefix: Int) -> StoredBlob? {
        let fd = open(pack.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        let fileSize = Int(info.st_size)
        var position = Int(offset)

        func bytes(_ count: Int) -> [UInt8]? {
            guard position >= 0, position + count <= fileSize else { return nil }
            var out = [UInt8](repeating: 0, count: count)
            guard pread(fd, &out, count, off_t(position)) == count else { return nil }
            position += count
            return out
        }

        // Pack object header: type in bits 4-6 of the first byte, size in 4 + 7k bits.
        guard let first = bytes(1)?.first, (first >> 4) & 7 == 3 else { return nil }
        var objectSize = Int(first & 0x0F)
        var shift = 4
        var byte = first
        while byte & 0x80 != 0 {
            guard shift < 57, let next = bytes(1)?.first else { return nil }
            byte = next
            objectSize |= Int(byte & 0x7F) << shift
            shift += 7
        }
        guard objectSize == size, let zlib = bytes(2) else { return nil }
        // Deflate, no preset dictionary, valid header check.
        guard zlib[0] & 0x0F == 8, zlib[0] >> 4 <= 7, zlib[1] & 0x20 == 0, (Int(zlib[0]) << 8 | Int(zlib[1])) % 31 == 0 else { return nil }

        var segments: [Range<Int>] = []
        var total = 0
        while true {
            guard let header = bytes(5), (header[0] >> 1) & 3 == 0 else { return nil }
            let length = Int(header[1]) | Int(header[2]) << 8
            guard Int(header[3]) | Int(header[4]) << 8 == length ^ 0xFFFF, total + length <= size,
                  position + length <= fileSize else { return nil }
            if length > 0 {
                if let last = segments.last, last.upperBound == position {
                    segments[segments.count - 1] = last.lowerBound..<(position + length)
                } else {
                    segments.append(position..<(position + length))
                }
            }
            position += length
            total += length
            if header[0] & 1 == 1 { break }
            if total >= prefix && total < size { return StoredBlob(packFile: pack, segments: segments).prefix(prefix) }
        }
        guard total == size else { return nil }
        return StoredBlob(packFile: pack, segments: segments).prefix(prefix)
    }
}
