import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension FileHandle {
    /// Writes `bytes` at most 1 MiB per call. Why: on Linux 6.x, ext4 backs one big buffered
    /// write with large page-cache folios, which on these VMs cost ~10× more than small ones
    /// (32 MiB in 16 MiB writes: ~150 ms; in 1 MiB writes: ~10 ms).
    func writeInPieces(_ bytes: UnsafeRawBufferPointer) throws {
        let piece = 1 << 20
        var offset = 0
        while offset < bytes.count {
            let count = Swift.min(piece, bytes.count - offset)
            try write(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]))
            offset += count
        }
    }
}

extension Data {
    /// Writes the bytes to `url` without fsync: for files mv can lose in a crash (staged
    /// copies, caches, hook inputs). Foundation's `write(to:)` syncs every file, about 1 ms
    /// each here, several times per command. `atomically` writes a temporary file in the same
    /// folder and renames it over `url`, so readers see the old or the new bytes.
    func writeUnsynced(to url: URL, atomically: Bool = false) throws {
        let target = atomically ? url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString)") : url
        let fd = open(target.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MVError("cannot write '\(url.path)': \(String(cString: strerror(errno)))") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            try withUnsafeBytes { try handle.writeInPieces($0) }
        } catch {
            unlink(target.path)
            throw MVError("cannot write '\(url.path)': \(error.localizedDescription)")
        }
        try? handle.close()
        if atomically, rename(target.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(target.path)
            throw MVError("cannot write '\(url.path)': \(reason)")
        }
    }
}
