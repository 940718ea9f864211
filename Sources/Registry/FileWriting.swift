import Foundation

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
