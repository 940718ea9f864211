import Crypto
import Foundation

/// SHA-256 digests used to identify tensor and file contents.
public enum ContentHash {
    /// Lowercase hex SHA-256 of a file, hashed in 1 MiB chunks so file size does not matter.
    public static func sha256(fileAt url: URL) throws -> String {
        let handle = try TensorFileIO.openForReading(url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk = try TensorFileIO.read(handle, count: TensorFileIO.chunkSize, url: url)
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
        }
        return hex(hasher.finalize())
    }

    /// Lowercase hex SHA-256 of in-memory bytes.
    public static func sha256(_ data: Data) -> String {
        hex(SHA256.hash(data: data))
    }

    /// Lowercase hex SHA-256 of bytes someone else owns.
    public static func sha256(bytes: UnsafeRawBufferPointer) -> String {
        hex(SHA256.hash(data: bytes))
    }

    public static func hex(_ digest: SHA256.Digest) -> String {
        hex(bytes: digest)
    }

    /// Lowercase hex of any bytes.
    public static func hex(bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension ContentHash {
    /// Lowercase hex SHA-256 of `length` bytes at `offset` in a file, e.g. one tensor's body.
    public static func sha256(fileAt url: URL, offset: Int, length: Int) throws -> String {
        let handle = try TensorFileIO.openForReading(url)
        defer { try? handle.close() }
        var hasher = SHA256()
        try TensorFileIO.forEachChunk(handle, url: url, offset: offset, length: length) { hasher.update(data: $0) }
        return hex(hasher.finalize())
    }
}
