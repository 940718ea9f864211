import CLinux
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An open file: its descriptor and the path it was opened from (for messages), closed when
/// the value is released or `close()` is called. Every read and write goes through
/// `SystemCall`, so an interrupted call is retried and a failure names the call and file.
public final class OpenFile: @unchecked Sendable {
    public let descriptor: Int32
    public let path: String
    private var isOpen = true

    /// O_DIRECT: reads and writes go around the page cache (block-aligned buffers, offsets
    /// and sizes only).
    public static let direct = mv_linux_O_DIRECT

    /// Opens `path` with `flags` (O_CLOEXEC is added); `mode` applies when O_CREAT creates it.
    public init(_ path: String, flags: Int32 = O_RDONLY, mode: mode_t = 0o644) throws {
        descriptor = try SystemCall.run("open", path: path) { open(path, flags | O_CLOEXEC, mode) }
        self.path = path
    }

    /// Takes ownership of a descriptor opened elsewhere (`mkstemp`).
    init(adopting descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// A new file with a unique name `<prefix>XXXXXX` in `directory` (mkstemp), for writing.
    public static func temporary(in directory: URL, prefix: String) throws -> OpenFile {
        var template = Array(directory.appendingPathComponent(prefix + "XXXXXX").path.utf8CString)
        let descriptor = try SystemCall.run("mkstemp", path: directory.path) {
            template.withUnsafeMutableBufferPointer { chars -> Int32 in
                guard let base = chars.baseAddress else { return -1 }
                return mkstemp(base)
            }
        }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return OpenFile(adopting: descriptor, path: path)
    }

    deinit {
        if isOpen { Glibc.close(descriptor) }
    }

    /// Closes the file now, reporting a failure (a network file system may report a failed
    /// write only here).
    public func close() throws {
        guard isOpen else { return }
        isOpen = false
        // Not retried: on Linux the descriptor is released even when close is interrupted.
        guard Glibc.close(descriptor) == 0 else { throw SystemError(call: "close", path: path, code: errno) }
    }

    // MARK: Reading

    /// One `pread` of up to `count` bytes at `offset`; 0 at the end of the file.
    public func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws -> Int {
        try SystemCall.run("pread", path: path) { pread(descriptor, buffer, count, off_t(offset)) }
    }

    /// Reads until `count` bytes or the end of the file; returns how many were read.
    public func readFully(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws -> Int {
        var done = 0
        while done < count {
            let n = try read(into: buffer + done, count: count - done, at: offset + done)
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// One read of only what the page cache holds (preadv2 with RWF_NOWAIT). Throws a
    /// `SystemError` with EAGAIN when part of the range would need the disk, EOPNOTSUPP or
    /// EINVAL where the file system cannot tell.
    public func readCached(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws -> Int {
        try SystemCall.run("preadv2", path: path) { mv_linux_pread_cached(descriptor, buffer, count, off_t(offset)) }
    }

    // MARK: Writing

    /// Writes every byte at `offset` (pwrite, resumed after short writes).
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            done += try SystemCall.run("pwrite", path: path) { pwrite(descriptor, base + done, bytes.count - done, off_t(offset + done)) }
        }
    }

    /// One `pwrite`, which may write fewer bytes than given (O_DIRECT writes stop at a
    /// block the device refuses).
    public func writeOnce(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        return try SystemCall.run("pwrite", path: path) { pwrite(descriptor, base, bytes.count, off_t(offset)) }
    }

    /// Writes every byte at the file position (write, resumed after short writes).
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            done += try SystemCall.run("write", path: path) { Glibc.write(descriptor, base + done, bytes.count - done) }
        }
    }

    /// Writes every piece at the file position, in order (writev, resumed after short
    /// writes); `pieces` is consumed.
    public func write(pieces: inout [iovec]) throws {
        var first = 0
        while first < pieces.count {
            let start = first
            let n = try SystemCall.run("writev", path: path) {
                pieces.withUnsafeBufferPointer { list in writev(descriptor, list.baseAddress.map { $0 + start }, Int32(list.count - start))
                }
            }
            var left = n
            while first < pieces.count, left >= pieces[first].iov_len {
                left -= pieces[first].iov_len
                first += 1
            }
            if left > 0, first < pieces.count {
                pieces[first].iov_base += left
                pieces[first].iov_len -= left
            }
        }
    }

    /// fsync: the file's bytes and size are on disk when this returns.
    public func sync() throws {
        try SystemCall.run("fsync", path: path) { fsync(descriptor) }
    }

    /// Sets the file's size (ftruncate).
    public func resize(to size: Int) throws {
        try SystemCall.run("ftruncate", path: path) { ftruncate(descriptor, off_t(size)) }
    }

    public func setMode(_ mode: mode_t) throws {
        try SystemCall.run("fchmod", path: path) { fchmod(descriptor, mode) }
    }

    // MARK: Hints (best effort: where one is not supported, nothing is lost but speed)

    /// Reserves disk space for the first `count` bytes, so the file system can allocate one
    /// extent instead of block by block as writes arrive.
    public func reserve(_ count: Int) {
        guard count > 0 else { return }
        _ = posix_fallocate(descriptor, 0, off_t(count))
    }

    /// Starts writing back the dirty pages of a range without waiting for them.
    public func startWriteback(offset: Int, count: Int) {
        _ = mv_linux_start_writeback(descriptor, off_t(offset), off_t(count))
    }

    /// Asks the kernel to read a range ahead, in the background.
    public func willNeed(offset: Int, count: Int) {
        _ = posix_fadvise(descriptor, off_t(offset), off_t(count), Int32(POSIX_FADV_WILLNEED))
    }

    // MARK: Status

    /// The file's stamp now.
    public func stamp() throws -> FileStamp {
        var info = stat()
        try SystemCall.run("fstat", path: path) { fstat(descriptor, &info) }
        return FileStamp(info)
    }

    /// The file's size now.
    public func size() throws -> Int { Int(try stamp().size) }
}
