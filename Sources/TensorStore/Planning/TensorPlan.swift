import Foundation
import ModelFormat
import SystemIO

/// How tensors are laid out in Git: one blob per tensor, or fixed-size chunks for tensors
/// too large for Git hosts (GitHub refuses files over 100 MB).
public enum ChunkPolicy {
    /// Size of one chunk; a partial change to a huge tensor stores only the chunks it touched.
    public static let chunkBytes: Int = {
        // A testing knob: tests exercise chunking without writing 64 MiB tensors.
        if let text = ProcessInfo.processInfo.environment["MV_CHUNK_BYTES"], let value = Int(text), value >= 4096 {
            return value
        }
        return 32 << 20
    }()

    /// A .npy larger than this is stored in chunks of `chunkBytes`.
    public static var chunkThreshold: Int { 2 * chunkBytes }

    public static func chunkSize(forFileOf size: Int) -> Int? {
        size > chunkThreshold ? chunkBytes : nil
    }
}

/// One tensor as mv will store it: the bytes of its .npy file, which are either a header mv
/// writes followed by a slice of a safetensors file, or a whole .npy file as given.
public struct TensorPlan: Sendable {
    public let name: String
    /// Element type of the values (bfloat16 where the .npy says uint16).
    public let dtype: DType
    public let header: NpyHeader
    /// Header bytes mv writes (safetensors input); empty when `source` is itself the .npy.
    public let prefix: [UInt8]
    public let source: URL
    /// Where the bytes after `prefix` start in `source`.
    public let sourceOffset: Int
    /// Bytes of the whole .npy.
    public let size: Int
    /// File name under params/.
    public let file: String
    public let chunkBytes: Int?

    public init(
        name: String, dtype: DType, header: NpyHeader, prefix: [UInt8], source: URL, sourceOffset: Int, size: Int,
        file: String, chunkBytes: Int?
    ) {
        self.name = name
        self.dtype = dtype
        self.header = header
        self.prefix = prefix
        self.source = source
        self.sourceOffset = sourceOffset
        self.size = size
        self.file = file
        self.chunkBytes = chunkBytes
    }

    /// Byte ranges of the .npy that become blobs: the whole file, or its chunks.
    public var pieces: [Range<Int>] {
        guard let chunkBytes else { return [0..<size] }
        return stride(from: 0, to: max(size, 1), by: chunkBytes).map { $0..<min($0 + chunkBytes, size) }
    }

    /// Copies `range` of the .npy into `target`, reading the source through `source`.
    func read(_ range: Range<Int>, into target: UnsafeMutableRawPointer, from input: OpenFile) throws {
        var position = range.lowerBound
        if position < prefix.count {
            let count = min(prefix.count, range.upperBound) - position
            prefix.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress { target.copyMemory(from: base + position, byteCount: count) }
            }
            position += count
        }
        while position < range.upperBound {
            let fileOffset = sourceOffset + (position - prefix.count)
            let n = try input.read(into: target + (position - range.lowerBound), count: range.upperBound - position, at: fileOffset)
            if n == 0 {
                throw TensorStoreError(
                    "'\(source.path)' became shorter while it was being read; nothing was stored",
                    hint: "wait for whatever writes it to finish, then run the command again")
            }
            position += n
        }
    }
}
