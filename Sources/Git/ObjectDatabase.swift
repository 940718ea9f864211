import CGit2
import Foundation

/// Blobs in and out of the repository's object store. Files are streamed in fixed-size
/// chunks so a multi-gigabyte tensor never sits whole in memory on the way in.
public struct ObjectDatabase {
    let repository: Repository

    private static let chunkSize = 1 << 20

    /// Writes `data` as a blob.
    public func writeBlob(_ data: Data) throws -> ObjectID {
        var oid = git_oid()
        try data.withUnsafeBytes { buffer in
            try check(git_blob_create_from_buffer(&oid, repository.pointer, buffer.baseAddress, buffer.count), "writing a blob")
        }
        return ObjectID(oid)
    }

    /// Streams the file at `url` into a blob through `git_odb_open_wstream`.
    public func writeBlob(fileAt url: URL) throws -> ObjectID {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 0)

        var odb: OpaquePointer?
        try check(git_repository_odb(&odb, repository.pointer), "opening the object database")
        defer { git_odb_free(odb) }
        var stream: UnsafeMutablePointer<git_odb_stream>?
        try check(git_odb_open_wstream(&stream, odb, git_object_size_t(size), GIT_OBJECT_BLOB), "storing '\(url.lastPathComponent)'")
        defer { git_odb_stream_free(stream) }

        var written: UInt64 = 0
        while written < size {
            let chunk = try handle.read(upToCount: Self.chunkSize) ?? Data()
            if chunk.isEmpty { break }
            try chunk.withUnsafeBytes { buffer in
                try check(
                    git_odb_stream_write(stream, buffer.baseAddress?.assumingMemoryBound(to: CChar.self), buffer.count),
                    "storing '\(url.lastPathComponent)'")
            }
            written += UInt64(chunk.count)
        }
        guard written == size else {
            throw GitError(code: .other(-1), message: "", context: "'\(url.path)' changed size while it was being stored")
        }
        var oid = git_oid()
        try check(git_odb_stream_finalize_write(&oid, stream), "storing '\(url.lastPathComponent)'")
        return ObjectID(oid)
    }

    /// The blob's bytes. A blob of 1 MiB or more is handed out in libgit2's own buffer,
    /// released with the Data, rather than copied: a 32 MiB chunk costs 32 MiB, not 64.
    public func readBlob(_ id: ObjectID) throws -> Data {
        let blob = try lookupBlob(id)
        let size = Int(git_blob_rawsize(blob))
        guard size >= 1 << 20, let raw = git_blob_rawcontent(blob) else {
            defer { git_blob_free(blob) }
            guard size > 0, let raw = git_blob_rawcontent(blob) else { return Data() }
            return Data(bytes: raw, count: size)
        }
        let owner = BlobOwner(blob: blob, repository: repository)
        return Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: raw), count: size, deallocator: .custom { _, _ in owner.free() })
    }

    /// Writes the blob to `url` (replacing it) without an intermediate copy in Swift memory.
    public func writeBlob(_ id: ObjectID, toFileAt url: URL) throws {
        let blob = try lookupBlob(id)
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        if size > 0, let raw = git_blob_rawcontent(blob) {
            var offset = 0
            while offset < size {
                let count = min(Self.chunkSize, size - offset)
                try handle.write(contentsOf: UnsafeRawBufferPointer(start: raw + offset, count: count))
                offset += count
            }
        }
    }

    /// Calls `body` with the blob's bytes in libgit2's own buffer, valid only during the call.
    public func withBlobBytes<T>(_ id: ObjectID, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        let blob = try lookupBlob(id)
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        return try body(UnsafeRawBufferPointer(start: size > 0 ? git_blob_rawcontent(blob) : nil, count: size))
    }

    /// The id git gives a blob of `bytes` (collision-detecting SHA-1); any thread may call it.
    public static func blobID(of bytes: UnsafeRawBufferPointer) throws -> ObjectID {
        var oid = git_oid()
        try check(
            git_odb_hash(&oid, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), bytes.count, GIT_OBJECT_BLOB),
            "hashing a blob of \(bytes.count) bytes")
        return ObjectID(oid)
    }

    /// The id git gives the file at `url` as a blob (read and hashed, nothing stored).
    public func hashFile(at url: URL) throws -> ObjectID {
        var oid = git_oid()
        try check(git_odb_hashfile(&oid, url.path, GIT_OBJECT_BLOB), "hashing '\(url.path)'")
        return ObjectID(oid)
    }

    /// The id git gives `bytes` as a blob (hashed, nothing stored).
    public static func hashBlob(_ bytes: UnsafeRawBufferPointer) throws -> ObjectID {
        var oid = git_oid()
        try check(git_odb_hash(&oid, bytes.baseAddress, bytes.count, GIT_OBJECT_BLOB), "hashing \(bytes.count) bytes")
        return ObjectID(oid)
    }

    /// The blob's size from its object header: a packed blob is not inflated (looking the
    /// blob up would read all of it — 8 ms for an 8 MiB tensor).
    public func blobSize(_ id: ObjectID) throws -> Int {
        var odb: OpaquePointer?
        try check(git_repository_odb(&odb, repository.pointer), "opening the object database")
        defer { git_odb_free(odb) }
        var oid = id.raw
        var size = 0
        var type = GIT_OBJECT_INVALID
        try check(git_odb_read_header(&size, &type, odb, &oid), "reading blob \(id.short)")
        guard type == GIT_OBJECT_BLOB else {
            throw GitError(code: .notFound, message: "object \(id.short) is not a blob", context: "reading blob \(id.short)")
        }
        return size
    }

    public func contains(_ id: ObjectID) -> Bool {
        var odb: OpaquePointer?
        guard git_repository_odb(&odb, repository.pointer) == 0 else { return false }
        defer { git_odb_free(odb) }
        var oid = id.raw
        return git_odb_exists(odb, &oid) == 1
    }

    private func lookupBlob(_ id: ObjectID) throws -> OpaquePointer {
        var blob: OpaquePointer?
        var oid = id.raw
        try check(git_blob_lookup(&blob, repository.pointer, &oid), "reading blob \(id.short)")
        guard let blob else { throw GitError(code: .notFound, message: "", context: "reading blob \(id.short)") }
        return blob
    }
}

/// Keeps a looked-up blob (and the repository it belongs to) alive for as long as a Data
/// wraps its buffer; libgit2 objects may be freed from any thread.
private final class BlobOwner: @unchecked Sendable {
    private let blob: OpaquePointer
    private let repository: Repository

    init(blob: OpaquePointer, repository: Repository) {
        self.blob = blob
        self.repository = repository
    }

    func free() {
        git_blob_free(blob)
    }
}
