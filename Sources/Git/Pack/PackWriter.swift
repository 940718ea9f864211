import CPackChecksums
import CZlib
import Crypto
import Foundation
import SystemIO

/// Writes blobs straight into a new pack (`.pack` + version 2 `.idx`) in `objects/pack/`,
/// the way `git index-pack` would leave them, without libgit2's packbuilder (which reads each
/// object whole and deflates it) or indexer (which hashes everything twice more).
///
/// Objects are stored whole (no deltas). Data that does not compress — float tensors — goes
/// in stored deflate blocks, a valid zlib stream that costs a copy instead of ~40 MB/s of
/// deflate; a blob whose samples deflate well arrives as a zlib stream its hashing thread
/// built (`SegmentedDeflate`), which this writer only copies.
///
/// Nothing is visible to git until `finish()`: the pack is written under a `tmp_pack_` name
/// (which `git gc` also cleans up), fsynced, then renamed `.pack` first and `.idx` last, so a
/// reader never finds an index without its pack. A writer that is released without
/// `finish()` deletes its temporary file.
final class PackWriter {
    /// Largest payload of one stored deflate block (LEN is 16 bits).
    static let storedBlockSize = 65_535
    /// Bytes of a file deflated to decide whether deflating it pays: four 4 KiB pieces from
    /// across it. (Level 1 runs at ~40 MB/s on float data; 64 KiB per blob cost 0.1 s of CPU
    /// per 512 MiB of 8 MiB tensors.)
    static let sampleSize = 16 * 1024
    /// Deflate only when the sample shrinks to at most this fraction.
    static let compressWhenRatioBelow = 0.9
    /// Pack and object headers and trailers between blobs (blob data goes out by `writev`).
    private static let bufferCapacity = 64 * 1024
    private static let readChunk = 1 << 20
    /// Stored blocks handed to one `writev` (two pieces each, well under IOV_MAX).
    private static let blocksPerWrite = 15

    let packDirectory: URL
    /// The temporary pack; nil once moved into place or discarded.
    private var file: OpenFile?
    private let buffer: UnsafeMutableRawPointer
    private var used = 0
    /// Block headers of one `writev` of a stored blob.
    private let blockHeaders: UnsafeMutableRawPointer
    private var sha = Insecure.SHA1()
    private let announcedCount: UInt32
    private(set) var offset: UInt64 = 0
    private var entries: [PackIndexEntry] = []
    /// End of the range already handed to the disk by `startWriteback`.
    private var writebackStart: UInt64 = 0
    private var done = false

    var objectCount: Int { entries.count }

    /// Opens a temporary pack in `packDirectory` announcing `expectedObjects` in its header
    /// and reserving `expectedBytes` of disk for it.
    init(packDirectory: URL, expectedObjects: Int, expectedBytes: UInt64 = 0) throws {
        self.packDirectory = packDirectory
        try FileManager.default.createDirectory(at: packDirectory, withIntermediateDirectories: true)
        // git's own `tmp_pack_` prefix, so `git gc` knows the file too, and the writer's process
        // id, so the next mv can tell an abandoned one from one still being written.
        let file = try OpenFile.temporary(in: packDirectory, prefix: Self.temporaryPrefix(kind: "pack"))
        self.file = file
        buffer = .allocate(byteCount: Self.bufferCapacity, alignment: 4096)
        blockHeaders = .allocate(byteCount: Self.blocksPerWrite * 5, alignment: 16)
        announcedCount = UInt32(clamping: expectedObjects)

        // Reserving the space up front lets ext4 allocate one extent instead of block by block
        // per write: measured 0.09 s instead of 0.12–1.8 s for 512 MiB on the measured machine.
        // Where the file system cannot, writing simply allocates as it goes.
        file.reserve(Int(clamping: expectedBytes))

        var header: [UInt8] = Array("PACK".utf8) + [0, 0, 0, 2]
        withUnsafeBytes(of: announcedCount.bigEndian) { header.append(contentsOf: $0) }
        put(header)
        do { try flush() } catch {
            discard()
            throw error
        }
    }

    deinit {
        discard()
        buffer.deallocate()
        blockHeaders.deallocate()
    }

    /// Whether samples from across `bytes` shrink enough at level 1 for deflating to pay.
    /// A tensor often starts with rows that compress (padding tokens) while the rest does not,
    /// so the samples come from four places across it.
    static func compresses(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = 4
        let each = sampleSize / 4
        guard bytes.count > count * each else { return deflatesWell([bytes]) }
        let step = (bytes.count - each) / (count - 1)
        return deflatesWell((0..<count).map { UnsafeRawBufferPointer(rebasing: bytes[($0 * step)..<($0 * step + each)]) })
    }

    /// A stored object whose checksums were computed elsewhere: this thread only hashes the
    /// pack and hands the blob's own memory to `writev` between the block headers (no copy),
    /// folding the blocks' CRCs into the object's with `crc32_combine`.
    func appendStored(_ bytes: UnsafeRawBufferPointer, id: ObjectID, checksums: StoredChecksums) throws {
        try flush()
        let start = offset
        var crc: UInt32 = 0
        func emit(_ piece: [UInt8]) {
            put(piece)
            crc = piece.withUnsafeBufferPointer { mv_crc32(crc, $0.baseAddress, $0.count) }
        }
        emit(Self.objectHeader(type: 3, size: UInt64(bytes.count)))
        emit([0x78, 0x01])
        guard checksums.blockCRCs.count == (bytes.count + Self.storedBlockSize - 1) / Self.storedBlockSize else {
            throw GitError(code: .other(-1), message: "", context: "internal error: block checksums do not cover the blob")
        }
        guard let base = bytes.baseAddress, !bytes.isEmpty else {
            // The empty blob: one final, empty stored block.
            emit([0x01, 0x00, 0x00, 0xFF, 0xFF])
            emit(withUnsafeBytes(of: checksums.adler32.bigEndian) { Array($0) })
            try flush()
            entries.append(PackIndexEntry(id: id, crc32: crc, offset: start))
            return
        }
        try flush()
        var offset = 0
        var block = 0
        while offset < bytes.count {
            var pieces: [iovec] = []
            var batchBytes = 0
            for slot in 0..<Self.blocksPerWrite where offset < bytes.count {
                let count = min(Self.storedBlockSize, bytes.count - offset)
                let length = UInt16(count)
                let header = blockHeaders + slot * 5
                for (index, byte) in [
                    offset + count == bytes.count ? 1 : 0, UInt8(length & 0xFF), UInt8(length >> 8),
                    UInt8(~length & 0xFF), UInt8(~length >> 8),
                ].enumerated() {
                    header.storeBytes(of: byte, toByteOffset: index, as: UInt8.self)
                }
                crc = mv_crc32(crc, header, 5)
                crc = UInt32(crc32_combine(uLong(crc), uLong(checksums.blockCRCs[block]), off_t(count)))
                sha.update(bufferPointer: UnsafeRawBufferPointer(start: header, count: 5))
                sha.update(bufferPointer: UnsafeRawBufferPointer(start: base + offset, count: count))
                pieces.append(iovec(iov_base: header, iov_len: 5))
                pieces.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: base + offset), iov_len: count))
                batchBytes += 5 + count
                offset += count
                block += 1
            }
            try output().write(pieces: &pieces)
            self.offset += UInt64(batchBytes)
            startWriteback()
        }
        emit(withUnsafeBytes(of: checksums.adler32.bigEndian) { Array($0) })
        try flush()
        entries.append(PackIndexEntry(id: id, crc32: crc, offset: start))
    }

    /// Appends a blob of `size` bytes whose complete zlib stream (and that stream's CRC-32)
    /// was built elsewhere: this thread writes the header and copies the stream.
    func appendDeflated(_ stream: [UInt8], crc32 streamCRC: UInt32, size: Int, id: ObjectID) throws {
        try flush()
        let start = offset
        let header = Self.objectHeader(type: 3, size: UInt64(size))
        put(header)
        try flush()
        let crc = header.withUnsafeBytes { mv_crc32(0, $0.baseAddress, $0.count) }
        try stream.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var done = 0
            while done < raw.count {
                let count = min(Self.readChunk, raw.count - done)
                sha.update(bufferPointer: UnsafeRawBufferPointer(start: base + done, count: count))
                try output().write(UnsafeRawBufferPointer(start: base + done, count: count))
                offset += UInt64(count)
                done += count
                startWriteback()
            }
        }
        let combined = UInt32(crc32_combine(uLong(crc), uLong(streamCRC), off_t(stream.count)))
        entries.append(PackIndexEntry(id: id, crc32: combined, offset: start))
    }

    /// Seals the pack and moves it into place; returns the `.pack` path, or nil (and removes
    /// the temporary file) when no object was written. `beforeInstalling` gets the pack's
    /// name (`pack-<checksum>`) before it becomes visible, to record whose it is.
    func finish(beforeInstalling: (String) throws -> Void = { _ in }) throws -> URL? {
        guard !entries.isEmpty else {
            discard()
            return nil
        }
        let checksum: [UInt8]
        // Fewer objects than announced (some were stored already): the header's count is
        // fixed and the trailer recomputed from the file.
        if announcedCount == entries.count {
            checksum = Array(sha.finalize())
        } else {
            checksum = try rechecksum(count: UInt32(entries.count))
        }
        put(checksum)
        try flush(hashing: false)
        let file = try output()
        try file.resize(to: Int(offset))
        try file.sync()

        let name = "pack-" + checksum.map { String(format: "%02x", $0) }.joined()
        let packURL = packDirectory.appendingPathComponent(name + ".pack")
        let indexURL = packDirectory.appendingPathComponent(name + ".idx")
        // Recorded even when the same bytes are already in place: this writer relies on them too.
        try beforeInstalling(name)
        // The same bytes are already in place (another writer got there first): keep theirs.
        if FileManager.default.fileExists(atPath: packURL.path) && FileManager.default.fileExists(atPath: indexURL.path) {
            discard()
            return packURL
        }
        let indexData = PackIndex.encode(entries, packChecksum: checksum)
        let indexTemp = try writeTemporaryIndex(indexData)
        defer { FileSystem.remove(indexTemp) }
        // Git makes pack files read-only; the rename order keeps an index from appearing
        // before the pack it points into.
        try? file.setMode(0o444)
        try FileSystem.rename(URL(fileURLWithPath: file.path), to: packURL)
        self.file = nil
        done = true
        do {
            try FileSystem.rename(indexTemp, to: indexURL)
        } catch {
            FileSystem.remove(packURL)
            throw error
        }
        // Makes the renames durable too.
        FileSystem.syncFolder(packDirectory)
        return packURL
    }

    // MARK: - Object encoding

    /// Type and size as git's pack object header: 3 type bits and 4 size bits, then 7 size
    /// bits per byte, the top bit saying another byte follows.
    private static func objectHeader(type: UInt8, size: UInt64) -> [UInt8] {
        var remaining = size >> 4
        var byte = (type << 4) | UInt8(size & 0x0F)
        var bytes: [UInt8] = []
        while remaining != 0 {
            bytes.append(byte | 0x80)
            byte = UInt8(remaining & 0x7F)
            remaining >>= 7
        }
        bytes.append(byte)
        return bytes
    }

    /// Whether deflating `samples` at level 1 shrinks them below `compressWhenRatioBelow`.
    static func deflatesWell(_ samples: [UnsafeRawBufferPointer]) -> Bool {
        let total = samples.reduce(0) { $0 + $1.count }
        guard total >= 512 else { return false }
        var compressed = 0
        for sample in samples where sample.count > 0 {
            guard let base = sample.baseAddress else { continue }
            var bound = compressBound(uLong(sample.count))
            let scratch = UnsafeMutablePointer<Bytef>.allocate(capacity: Int(bound))
            defer { scratch.deallocate() }
            guard compress2(scratch, &bound, base.assumingMemoryBound(to: Bytef.self), uLong(sample.count), Z_BEST_SPEED) == Z_OK else {
                return false
            }
            compressed += Int(bound)
        }
        return Double(compressed) < Double(total) * compressWhenRatioBelow
    }

    // MARK: - Output

    private func put(_ bytes: [UInt8]) {
        for (index, byte) in bytes.enumerated() { buffer.storeBytes(of: byte, toByteOffset: used + index, as: UInt8.self) }
        used += bytes.count
    }

    /// The temporary pack, while it is being written.
    private func output() throws -> OpenFile {
        guard let file else { throw GitError(code: .other(-1), message: "", context: "internal error: the pack was already finished") }
        return file
    }

    /// Writes the buffer out, folding it into the pack checksum.
    private func flush(hashing: Bool = true) throws {
        guard used > 0 else { return }
        let bytes = UnsafeRawBufferPointer(start: buffer, count: used)
        if hashing { sha.update(bufferPointer: bytes) }
        try output().write(bytes)
        offset += UInt64(used)
        used = 0
        startWriteback()
    }

    /// Hands every full 8 MiB written so far to the disk without waiting, so the fsync in
    /// `finish()` has little left to do (512 MiB: 0.18 s of fsync after the last write).
    private func startWriteback() {
        let step: UInt64 = 8 << 20
        guard offset - writebackStart >= step else { return }
        let end = offset / step * step
        // Best effort: where the call is not supported, fsync simply does all the work.
        file?.startWriteback(offset: Int(writebackStart), count: Int(end - writebackStart))
        writebackStart = end
    }

    /// The header with the real object count, and the SHA-1 of the whole file reread from
    /// the page cache: needed only when objects were dropped after the header went out.
    private func rechecksum(count: UInt32) throws -> [UInt8] {
        let file = try output()
        try withUnsafeBytes(of: count.bigEndian) { try file.write($0, at: 8) }
        var hasher = Insecure.SHA1()
        let input = UnsafeMutableRawPointer.allocate(byteCount: Self.readChunk, alignment: 4096)
        defer { input.deallocate() }
        var position: UInt64 = 0
        while position < offset {
            let count = Int(min(UInt64(Self.readChunk), offset - position))
            let n = try file.read(into: input, count: count, at: Int(position))
            guard n > 0 else { throw SystemError(call: "pread", path: file.path, code: EIO) }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(start: input, count: n))
            position += UInt64(n)
        }
        return Array(hasher.finalize())
    }

    private func writeTemporaryIndex(_ data: Data) throws -> URL {
        let index = try OpenFile.temporary(in: packDirectory, prefix: Self.temporaryPrefix(kind: "idx"))
        do {
            try data.withUnsafeBytes { try index.write($0) }
            try index.setMode(0o444)
            try index.sync()
            try index.close()
        } catch {
            FileSystem.remove(URL(fileURLWithPath: index.path))
            throw error
        }
        return URL(fileURLWithPath: index.path)
    }

    /// `tmp_pack_mv<pid>_` / `tmp_idx_mv<pid>_`, completed by mkstemp.
    static func temporaryPrefix(kind: String) -> String { "tmp_\(kind)_mv\(Processes.current)_" }

    /// Removes the temporary files of mv pack writers that are gone (killed while writing);
    /// returns how many bytes that freed. Files of writers still running, and git's own
    /// temporaries, are left alone.
    static func removeAbandonedTemporaries(in packDirectory: URL) -> Int64 {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: packDirectory.path)) ?? []
        var freed: Int64 = 0
        for name in names where name.hasPrefix("tmp_pack_mv") || name.hasPrefix("tmp_idx_mv") {
            let digits = name.drop { $0 != "v" }.dropFirst().prefix { $0.isNumber }
            guard let pid = Int32(digits), !Processes.isAlive(pid) else { continue }
            let url = packDirectory.appendingPathComponent(name)
            freed += FileStamp(path: url.path)?.size ?? 0
            FileSystem.remove(url)
        }
        return freed
    }

    private func discard() {
        guard !done else { return }
        done = true
        if let file { FileSystem.remove(URL(fileURLWithPath: file.path)) }
        file = nil
    }
}
