import Foundation

/// One-off writes of bytes already in memory to part of a file, around the page cache.
public enum DirectWrite {
    /// Writes `bytes` at `offset` of `file` (opened for writing): the page-aligned bulk with
    /// O_DIRECT, the rest through `file` itself.
    ///
    /// Why: mv does not read such a copy again (a work-tree file next to the pack it came
    /// from), so the CPU need not copy it into the page cache nor the kernel flush it later;
    /// the disk reads it from memory itself. (Whole 8 MiB buffered writes were several times
    /// slower on the measured machine: the kernel backs them with large folios. Buffered in
    /// 1 MiB pieces they are about as fast as direct ones.) Bytes not on a page boundary
    /// (mapped from a safetensors file) go through an aligned bounce buffer. Where the file
    /// system refuses O_DIRECT, everything goes through `file`.
    public static func write(_ bytes: UnsafeRawBufferPointer, to file: OpenFile, at offset: Int) throws {
        let block = 4096
        var done = 0
        if let base = bytes.baseAddress, offset % block == 0, bytes.count >= block,
            let direct = try? OpenFile(file.path, flags: O_WRONLY | OpenFile.direct)
        {
            let aligned = bytes.count / block * block
            let bounce = Int(bitPattern: base) % block == 0 ? nil : bounceBuffers.take()
            defer { if let bounce { bounceBuffers.give(bounce) } }
            while done < aligned {
                var source = UnsafeRawPointer(base + done)
                var count = aligned - done
                if let bounce {
                    count = min(count, BounceBuffers.size)
                    bounce.copyMemory(from: source, byteCount: count)
                    source = UnsafeRawPointer(bounce)
                }
                let n = (try? direct.writeOnce(UnsafeRawBufferPointer(start: source, count: count), at: offset + done)) ?? -1
                if n <= 0 || n % block != 0 {
                    // Refused (EINVAL) or short: the rest goes through the page cache.
                    if n > 0 { done += n }
                    break
                }
                done += n
            }
        }
        try file.write(UnsafeRawBufferPointer(rebasing: bytes[done...]), at: offset + done)
    }

    /// Aligned buffers for direct writes of unaligned bytes, kept for the next write.
    final class BounceBuffers: @unchecked Sendable {
        /// Direct writes of 1 MiB ran at a quarter of the disk's speed on the measured machine
        /// (each waits for the device); 4 MiB ones reach it. Smaller is better otherwise:
        /// there a fresh page costs ~2.5 µs (the host backs it again).
        static let size = 4 << 20
        private let lock = NSLock()
        private var spare: [UnsafeMutableRawPointer] = []

        func take() -> UnsafeMutableRawPointer {
            lock.lock()
            defer { lock.unlock() }
            return spare.popLast() ?? .allocate(byteCount: Self.size, alignment: 4096)
        }

        func give(_ buffer: UnsafeMutableRawPointer) {
            lock.lock()
            defer { lock.unlock() }
            spare.append(buffer)
        }
    }

    private static let bounceBuffers = BounceBuffers()
}
