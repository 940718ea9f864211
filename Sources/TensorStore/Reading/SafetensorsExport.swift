import Crypto
import Foundation
import Git
import ModelFormat
import SystemIO

extension PackReader {
    /// Writes a safetensors file straight from the blobs — header, then each tensor's bytes
    /// after its .npy header — checking every tensor's SHA-256 (and that its .npy holds the
    /// shape the header announces) on the way, one blob in memory at a time. Nothing appears
    /// at `url` unless every check passed.
    func writeSafetensors(
        header: Data, tensors: [LabeledTensor], fileSHA256: String?, to url: URL,
        progress: ((Int64, Int64) -> Void)?
    ) throws {
        let fileManager = FileManager.default
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).mv-\(UUID().uuidString)")
        // The whole file's SHA-256 (to prove it equals the file imported) is computed by the
        // writer's own thread as the bytes go out, beside each tensor's on this one.
        let fileHasher = fileSHA256 == nil ? nil : StreamHasher()
        var observe: (@Sendable (UnsafeRawBufferPointer) -> Void)?
        if let fileHasher { observe = { fileHasher.update($0) } }
        let writer: DirectFileWriter
        do {
            writer = try DirectFileWriter(creating: temporary, observe: observe)
        } catch {
            throw TensorStoreError("cannot write '\(url.path)'", hint: "check that its folder exists and is writable")
        }
        var moved = false
        defer {
            if !moved { try? fileManager.removeItem(at: temporary) }
        }
        let total = Int64(tensors.map(\.record.bytes).reduce(0, +))
        var done: Int64 = 0
        var prefix = Data()
        for i in 0..<8 { prefix.append(UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * UInt64(i)))) }
        prefix.append(header)
        try prefix.withUnsafeBytes { try writer.write($0) }
        for tensor in tensors {
            let record = tensor.record
            var hasher = SHA256()
            var skip: Int?
            for (position, blob) in tensor.blobs.enumerated() {
                if position + 1 < tensor.blobs.count { locator?.readAhead(tensor.blobs[position + 1]) }
                try withContentPieces(blob) { pieces in
                    if skip == nil {
                        // The .npy header lies in the first bytes, whatever the pieces' sizes.
                        var head = Data()
                        for piece in pieces where head.count < 1 << 16 { head.append(contentsOf: piece.prefix((1 << 16) - head.count)) }
                        let header: NpyHeader
                        do {
                            header = try NpyHeader.parse(prefix: head, fileName: record.file, fileSize: nil)
                        } catch {
                            throw TensorStoreError("tensor '\(record.name)' of \(tensor.label) is not a valid .npy: \(error)")
                        }
                        guard header.shape == record.shape, header.headerLength + header.dataLength == record.bytes else {
                            throw TensorStoreError(
                                "tensor '\(record.name)' of \(tensor.label) does not hold the shape its manifest lists; nothing was written"
                            )
                        }
                        skip = header.headerLength
                    }
                    for bytes in pieces {
                        hasher.update(bufferPointer: bytes)
                        let start = min(skip ?? 0, bytes.count)
                        try writer.write(UnsafeRawBufferPointer(rebasing: bytes[start...]))
                        skip = (skip ?? 0) - start
                    }
                }
            }
            guard ContentHash.hex(hasher.finalize()) == record.sha256 else {
                throw TensorStoreError(
                    "tensor '\(record.name)' of \(tensor.label) does not match its sha256 in the manifest; the stored file was altered; nothing was written"
                )
            }
            done += Int64(record.bytes)
            progress?(done, total)
        }
        try writer.finish(sync: true)
        if let fileSHA256, let fileHasher, fileHasher.hex() != fileSHA256 {
            throw TensorStoreError(
                "the safetensors file rebuilt for \(tensors.first?.label ?? "the version") does not match the sha256 of the file imported; nothing was written"
            )
        }
        if fileManager.fileExists(atPath: url.path) { try fileManager.removeItem(at: url) }
        try fileManager.moveItem(at: temporary, to: url)
        moved = true
    }
}

/// A SHA-256 fed from another thread (a `DirectFileWriter`'s observer), read once it is done.
final class StreamHasher: @unchecked Sendable {
    private var hasher = SHA256()

    func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    func hex() -> String { ContentHash.hex(hasher.finalize()) }
}
