import Crypto
import Foundation

/// One object of a pack as its `.idx` lists it: the id, the CRC-32 of the object's bytes in
/// the pack (header and zlib stream) and where those bytes start.
struct PackIndexEntry {
    var id: ObjectID
    var crc32: UInt32
    var offset: UInt64
}

/// The version 2 pack index (`.idx`) git and libgit2 read to find an object in a `.pack`:
/// magic, version, a 256-entry fanout over the first id byte, sorted ids, CRC-32s, 31-bit
/// offsets (the top bit pointing into a table of 64-bit offsets for packs over 2 GiB), the
/// pack's checksum and the index's own SHA-1.
enum PackIndex {
    static let magic: [UInt8] = [0xFF, 0x74, 0x4F, 0x63]  // "\377tOc"
    /// Offsets at or above this go to the 64-bit table: the 4-byte field keeps 31 bits.
    static let largeOffsetThreshold: UInt64 = 0x8000_0000

    static func encode(_ unsorted: [PackIndexEntry], packChecksum: [UInt8]) -> Data {
        let entries = unsorted.sorted { $0.id.bytes.lexicographicallyPrecedes($1.id.bytes) }
        var out = Data()
        out.reserveCapacity(8 + 256 * 4 + entries.count * 32 + 40)
        out.append(contentsOf: magic)
        appendBigEndian(UInt32(2), to: &out)

        var fanout = [UInt32](repeating: 0, count: 256)
        for entry in entries { fanout[Int(entry.id.bytes[0])] += 1 }
        var running: UInt32 = 0
        for count in fanout {
            running += count
            appendBigEndian(running, to: &out)
        }
        for entry in entries { out.append(contentsOf: entry.id.bytes) }
        for entry in entries { appendBigEndian(entry.crc32, to: &out) }
        var large: [UInt64] = []
        for entry in entries {
            if entry.offset < largeOffsetThreshold {
                appendBigEndian(UInt32(entry.offset), to: &out)
            } else {
                appendBigEndian(0x8000_0000 | UInt32(large.count), to: &out)
                large.append(entry.offset)
            }
        }
        for offset in large { appendBigEndian(offset, to: &out) }
        out.append(contentsOf: packChecksum)
        out.append(contentsOf: Insecure.SHA1.hash(data: out))
        return out
    }

    private static func appendBigEndian<T: FixedWidthInteger>(_ value: T, to data: inout Data) {
        withUnsafeBytes(of: value.bigEndian) { data.append(contentsOf: $0) }
    }
}

extension PackIndex {
    /// A version 2 `.idx` read into memory, for finding where an object starts in its pack.
    /// Anything malformed makes `open` return nil: callers then fall back to libgit2.
    struct File {
        let packURL: URL
        private let data: Data
        private let count: Int

        static func open(_ url: URL) -> File? {
            guard let data = try? Data(contentsOf: url, options: .alwaysMapped), data.count >= 8 + 256 * 4 + 40,
                Array(data.prefix(4)) == PackIndex.magic, File.bigEndian32(data, at: 4) == 2
            else { return nil }
            let count = Int(File.bigEndian32(data, at: 8 + 255 * 4))
            // Ids, CRCs and 4-byte offsets, then the two trailing checksums at least.
            guard data.count >= 8 + 256 * 4 + count * 28 + 40 else { return nil }
            return File(packURL: url.deletingPathExtension().appendingPathExtension("pack"), data: data, count: count)
        }

        /// Every object the index lists, in id order.
        func ids() -> [ObjectID] {
            let start = 8 + 256 * 4
            return (0..<count).compactMap { index in
                ObjectID(bytes: Array(data[(data.startIndex + start + index * 20)..<(data.startIndex + start + index * 20 + 20)]))
            }
        }

        /// Where `id` starts in the pack, or nil when this index does not list it.
        func offset(of id: ObjectID) -> UInt64? {
            let target = id.bytes
            let first = Int(target[0])
            var low = first == 0 ? 0 : Int(Self.bigEndian32(data, at: 8 + (first - 1) * 4))
            var high = Int(Self.bigEndian32(data, at: 8 + first * 4))
            guard low <= high, high <= count else { return nil }
            let ids = 8 + 256 * 4
            while low < high {
                let middle = (low + high) / 2
                var order = 0
                for index in 0..<20 {
                    let stored: UInt8 = data[data.startIndex + ids + middle * 20 + index]
                    if stored != target[index] {
                        order = stored < target[index] ? -1 : 1
                        break
                    }
                }
                if order == 0 {
                    let small = Self.bigEndian32(data, at: ids + count * 24 + middle * 4)
                    guard small & 0x8000_0000 != 0 else { return UInt64(small) }
                    let large = ids + count * 28 + Int(small & 0x7FFF_FFFF) * 8
                    guard large + 8 <= data.count - 40 else { return nil }
                    return UInt64(Self.bigEndian32(data, at: large)) << 32 | UInt64(Self.bigEndian32(data, at: large + 4))
                }
                if order < 0 { low = middle + 1 } else { high = middle }
            }
            return nil
        }

        private static func bigEndian32(_ data: Data, at offset: Int) -> UInt32 {
            (0..<4).reduce(UInt32(0)) { (value: UInt32, index: Int) -> UInt32 in
                value << 8 | UInt32(data[data.startIndex + offset + index] as UInt8)
            }
        }
    }
}
