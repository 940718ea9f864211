import CZlib
import Foundation

/// A zlib stream for a blob in memory, deflated in independent 1 MiB segments on every core,
/// as pigz does: each segment is raw deflate at level 1 closed by a sync flush (so the next
/// starts on a byte boundary), or stored blocks when a sample of it does not shrink; then an
/// empty final block and the Adler-32 of the whole. A decoder sees one ordinary stream; the
/// cost is that no match reaches back across a segment boundary.
///
/// Why: a compressible tensor (all-MiniLM-L6-v2's 47 MB word embedding, whose padding rows
/// compress) otherwise went through zlib on the packing thread alone: 0.35 s of the import's
/// 0.6 s with the other core idle.
enum SegmentedDeflate {
    static let segmentSize = 1 << 20

    /// The stream, or nil when zlib fails (the caller then deflates it the ordinary way).
    static func stream(of bytes: UnsafeRawBufferPointer, adler32: UInt32) -> [UInt8]? {
        let count = (bytes.count + segmentSize - 1) / segmentSize
        final class Pieces: @unchecked Sendable {
            var parts: [[UInt8]?]
            let lock = NSLock()
            init(_ count: Int) { parts = Array(repeating: nil, count: count) }
        }
        /// The caller keeps the bytes alive and unchanged until this returns.
        struct Input: @unchecked Sendable { let bytes: UnsafeRawBufferPointer }
        let pieces = Pieces(count)
        let input = Input(bytes: bytes)
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let start = index * segmentSize
            let segment = UnsafeRawBufferPointer(rebasing: input.bytes[start..<min(start + segmentSize, input.bytes.count)])
            let part =
                PackWriter.deflatesWell([UnsafeRawBufferPointer(rebasing: segment.prefix(16 * 1024))])
                ? deflated(segment) : stored(segment)
            pieces.lock.lock()
            pieces.parts[index] = part
            pieces.lock.unlock()
        }
        var out: [UInt8] = [0x78, 0x01]
        out.reserveCapacity(pieces.parts.reduce(2 + 9) { $0 + ($1?.count ?? 0) })
        // Each part is dropped once copied, so the stream and its parts are not both resident.
        for index in pieces.parts.indices {
            guard let part = pieces.parts[index] else { return nil }
            out += part
            pieces.parts[index] = nil
        }
        out += [0x01, 0x00, 0x00, 0xFF, 0xFF]  // empty final block
        withUnsafeBytes(of: adler32.bigEndian) { out += $0 }
        return out
    }

    /// Raw deflate (no zlib header) at level 1, ending on a sync flush; nil if zlib fails or
    /// needs more room than its own bound.
    private static func deflated(_ segment: UnsafeRawBufferPointer) -> [UInt8]? {
        guard let base = segment.baseAddress else { return [] }
        var stream = z_stream()
        guard
            deflateInit2_(
                &stream, Z_BEST_SPEED, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { return nil }
        defer { deflateEnd(&stream) }
        // The bound plus room for the sync flush's empty block.
        let capacity = Int(deflateBound(&stream, uLong(segment.count))) + 64
        var complete = false
        let out = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(segment.count)
            stream.next_out = buffer.baseAddress
            stream.avail_out = uInt(capacity)
            let rc = deflate(&stream, Z_SYNC_FLUSH)
            initialized = capacity - Int(stream.avail_out)
            // All input taken with room to spare: the flush is complete.
            complete = rc == Z_OK && stream.avail_in == 0 && stream.avail_out > 0
        }
        return complete ? out : nil
    }

    /// Non-final stored blocks of at most 65,535 bytes.
    private static func stored(_ segment: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(segment.count + (segment.count / PackWriter.storedBlockSize + 1) * 5)
        var offset = 0
        while offset < segment.count {
            let length = UInt16(min(PackWriter.storedBlockSize, segment.count - offset))
            out += [0x00, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
            out += segment[offset..<(offset + Int(length))]
            offset += Int(length)
        }
        return out
    }
}
