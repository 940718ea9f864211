import Foundation
import SystemIO

/// Where a blob's content lies, uncompressed, inside a pack file: the byte ranges of the
/// stored deflate blocks that hold it, in order, and those bytes themselves through a read-only
/// memory map of the pack. mv writes float tensors this way, and `git gc` keeps the data as it
/// is, so comparing new bytes with a stored blob needs no decompression and no hashing.
public struct StoredBlob: Sendable {
    public let packFile: URL
    /// The whole blob's size (the segments may hold only a prefix of it).
    public let size: Int
    /// Ranges of the pack file that, concatenated, are the blob's content.
    public let segments: [Range<Int>]
    private let mapping: MappedRegion

    fileprivate init(packFile: URL, size: Int, segments: [Range<Int>], mapping: MappedRegion) {
        self.packFile = packFile
        self.size = size
        self.segments = segments
        self.mapping = mapping
    }

    /// The bytes of `segment` (one of `segments`), valid while this value is alive.
    public func bytes(_ segment: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: mapping.pointer(atFileOffset: segment.lowerBound), count: segment.count)
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
        return StoredBlob(packFile: packFile, size: size, segments: kept, mapping: mapping)
    }
}

/// Finds blobs stored uncompressed in the repository's packs, reading `.idx` files and
/// object headers directly. Any thread may use it (it only reads files); a blob that is
/// loose, deflated, a delta, or in a pack it cannot parse is simply not found.
public final class StoredBlobLocator: Sendable {
    private let indexes: [PackIndex.File]
    private let files = OpenPacks()

    public init(_ objects: ObjectDatabase) throws {
        let packs = try objects.objectsDirectory().appendingPathComponent("pack")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: packs.path)) ?? []
        indexes = names.filter { $0.hasPrefix("pack-") && $0.hasSuffix(".idx") }.sorted()
            .compactMap { PackIndex.File.open(packs.appendingPathComponent($0)) }
    }

    /// The stored blocks of blob `id` when it is in a pack as a whole object (of `size` bytes,
    /// when given) held in stored (uncompressed) deflate blocks; nil otherwise.
    /// With `prefix`, only the blocks holding the first `prefix` bytes are walked (and
    /// returned). With `inMemoryOnly`, a blob whose pack pages are not in the page cache is
    /// not found either (reading it from disk would cost more than hashing the new bytes);
    /// without, the kernel is asked to read the blob ahead, as it is about to be read whole.
    public func locate(_ id: ObjectID, size: Int? = nil, prefix: Int? = nil, inMemoryOnly: Bool = false) -> StoredBlob? {
        for index in indexes {
            guard let offset = index.offset(of: id) else { continue }
            guard let file = files.opened(index.packURL) else { return nil }
            return Self.storedSegments(
                in: index.packURL, file: file, at: Int(offset), size: size, prefix: prefix, inMemoryOnly: inMemoryOnly)
        }
        return nil
    }

    /// Reads blob `id`'s content (its first `prefix` bytes, or all) out of its pack's stored
    /// blocks through `window`, handing `body` each piece in order with its offset in the
    /// content; `body` returning false stops the reading and the answer is false. Nil when
    /// the blob is not a whole object of `size` bytes in stored blocks in a pack; with
    /// `cachedOnly`, throws `ReadWindow.Failure` when part of it is not in memory (reading it
    /// from disk would cost more than hashing the new bytes) or the file system cannot tell.
    public func readStored(
        _ id: ObjectID, size expected: Int?, prefix wanted: Int? = nil, cachedOnly: Bool, window: ReadWindow,
        _ body: (UnsafeRawBufferPointer, Int) throws -> Bool
    ) throws -> Bool? {
        guard let index = indexes.first(where: { $0.offset(of: id) != nil }), let offset = index.offset(of: id).map(Int.init),
            let file = files.opened(index.packURL), let (size, used, zlib) = Self.blobHeader(file, at: offset),
            expected == nil || expected == size, let (cmf, flags) = zlib,
            cmf & 0x0F == 8, cmf >> 4 <= 7, flags & 0x20 == 0, (Int(cmf) << 8 | Int(flags)) % 31 == 0
        else { return nil }
        let prefix = min(wanted ?? size, size)
        var position = offset + used + 2
        var total = 0
        // What is left to read: the content up to the prefix and a header per block.
        func needed() -> Int { (prefix - total) + 5 * ((prefix - total) / 65_535 + 2) }
        while true {
            guard let header = try window.bytes(file, at: position, count: 5, needed: needed(), cachedOnly: cachedOnly) else { return nil }
            let final = header[0]
            let length = Int(header[1]) | Int(header[2]) << 8
            guard (final >> 1) & 3 == 0, Int(header[3]) | Int(header[4]) << 8 == length ^ 0xFFFF, total + length <= size else { return nil }
            position += 5
            var left = min(length, prefix - total)
            let skipped = length - left
            while left > 0 {
                let count = min(left, window.capacity)
                guard let piece = try window.bytes(file, at: position, count: count, needed: needed(), cachedOnly: cachedOnly) else {
                    return nil
                }
                guard try body(piece, total) else { return false }
                position += count
                total += count
                left -= count
            }
            if total >= prefix && total < size { return true }
            position += skipped
            if final & 1 == 1 { break }
        }
        return total == size ? true : nil
    }

    /// Asks the kernel to start reading blob `id` from disk in the background when it is in
    /// a pack, so that it is in memory by the time it is needed: for reading many blobs in a
    /// row from a pack that is not in the page cache (each blob is otherwise read only when
    /// it is touched, with the disk idle while the one before is hashed).
    public func readAhead(_ id: ObjectID) {
        for index in indexes {
            guard let offset = index.offset(of: id) else { continue }
            guard let file = files.opened(index.packURL), let (size, _, _) = Self.blobHeader(file, at: Int(offset)) else { return }
            // The content and its blocks' headers.
            file.willNeed(offset: Int(offset), count: size + 5 * (size / 65_535 + 2) + 16)
            return
        }
    }

    /// The pack object header at `offset` when it is a blob's: type in bits 4-6 of the first
    /// byte, size in 4 + 7k bits (at most 10 bytes here); its length; and the two bytes after
    /// it (a zlib header), when the file has them.
    private static func blobHeader(_ file: OpenFile, at offset: Int) -> (size: Int, length: Int, zlib: (UInt8, UInt8)?)? {
        var head = [UInt8](repeating: 0, count: 12)
        let count = head.withUnsafeMutableBytes { raw in
            raw.baseAddress.flatMap { try? file.read(into: $0, count: raw.count, at: offset) } ?? 0
        }
        guard count > 0, (head[0] >> 4) & 7 == 3 else { return nil }
        var size = Int(head[0] & 0x0F)
        var used = 1
        var shift = 4
        while head[used - 1] & 0x80 != 0 {
            guard shift < 57, used < count else { return nil }
            size |= Int(head[used] & 0x7F) << shift
            shift += 7
            used += 1
        }
        return (size, used, used + 2 <= count ? (head[used], head[used + 1]) : nil)
    }

    /// Reads the object header at `offset` (type blob, the expected size) and the zlib
    /// header, then walks the stored blocks (BTYPE 00 only) in a memory map until their
    /// lengths add up to the size.
    private static func storedSegments(
        in pack: URL, file: OpenFile, at offset: Int, size expected: Int?, prefix wanted: Int?,
        inMemoryOnly: Bool
    ) -> StoredBlob? {
        // The size now, not when the file was opened: a pack cut short since must not be
        // mapped past its end.
        guard let fileSize = try? file.size(), offset >= 0, offset < fileSize else { return nil }

        guard let (size, used, zlib) = blobHeader(file, at: offset), expected == nil || expected == size,
            let (cmf, flags) = zlib
        else { return nil }
        // Deflate, no preset dictionary, valid header check.
        guard cmf & 0x0F == 8, cmf >> 4 <= 7, flags & 0x20 == 0, (Int(cmf) << 8 | Int(flags)) % 31 == 0 else { return nil }

        // The content and a 5-byte header per block of at least 1 byte: past the prefix's
        // blocks nothing is mapped or read.
        let prefix = min(wanted ?? size, size)
        let start = offset + used + 2
        let end = min(fileSize, start + prefix + 5 * (prefix / 65_535 + 2))
        guard start < end, let mapping = try? MappedRegion(file, offset: start, count: end - start) else { return nil }
        if inMemoryOnly {
            guard mapping.isResident(start..<end) else { return nil }
        } else {
            mapping.willRead(start..<end)
        }
        var position = start

        func byte() -> UInt8? {
            guard position < end else { return nil }
            defer { position += 1 }
            return mapping.pointer(atFileOffset: position).load(as: UInt8.self)
        }

        var segments: [Range<Int>] = []
        var total = 0
        func result() -> StoredBlob { StoredBlob(packFile: pack, size: size, segments: segments, mapping: mapping).prefix(prefix) }
        while true {
            guard let final = byte(), (final >> 1) & 3 == 0, let l0 = byte(), let l1 = byte(), let n0 = byte(), let n1 = byte() else {
                return nil
            }
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

/// The locator's packs, each opened once (a comparison locates dozens of blobs in one pack,
/// and every open and close is a system call) and closed with the locator.
private final class OpenPacks: @unchecked Sendable {
    private let lock = NSLock()
    private var files: [URL: OpenFile] = [:]

    func opened(_ url: URL) -> OpenFile? {
        lock.lock()
        defer { lock.unlock() }
        if let file = files[url] { return file }
        guard let file = try? OpenFile(url.path) else { return nil }
        files[url] = file
        return file
    }
}
