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
