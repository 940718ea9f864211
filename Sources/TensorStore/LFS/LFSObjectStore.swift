import Crypto
import Foundation
import ModelFormat
import SystemIO

/// The local Git LFS object store, laid out as git-lfs lays it out
/// (`<git dir>/lfs/objects/<aa>/<bb>/<oid>`), so `git lfs` and mv read each other's objects.
/// Objects are content-addressed and written whole under a temporary name first: a file at
/// an object's path always holds exactly its bytes.
public struct LFSObjectStore: Sendable {
    /// `<git dir>/lfs`.
    public let root: URL

    public init(gitDirectory: URL) {
        root = gitDirectory.appendingPathComponent("lfs")
    }

    /// The store of a repository that keeps objects where a `file://` remote does
    /// (`<repository>/lfs/objects`), as git-lfs's standalone file transfer expects.
    public init(root: URL) {
        self.root = root
    }

    public func url(of oid: String) -> URL {
        root.appendingPathComponent("objects/\(oid.prefix(2))/\(oid.dropFirst(2).prefix(2))/\(oid)")
    }

    /// The object is here, whole (its size is checked; its bytes are checked where read).
    public func contains(_ pointer: LFSPointer) -> Bool {
        var info = stat()
        return stat(url(of: pointer.oid).path, &info) == 0 && Int(info.st_size) == pointer.size
    }

    /// A new file for bytes on their way in, on the same file system as the objects.
    func temporaryFile() throws -> OpenFile {
        let folder = root.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try OpenFile.temporary(in: folder, prefix: "mv-")
    }

    /// Stores `bytes`, whose SHA-256 the caller computed as `oid`; nothing when it is here.
    public func store(_ bytes: UnsafeRawBufferPointer, oid: String) throws {
        let pointer = LFSPointer(oid: oid, size: bytes.count)
        guard !contains(pointer) else { return }
        let file = try temporaryFile()
        do {
            if !bytes.isEmpty { try DirectWrite.write(bytes, to: file, at: 0) }
            try file.close()
            try install(file.path, as: pointer)
        } catch {
            unlink(file.path)
            throw TensorStoreError("could not write the LFS object \(pointer) in '\(root.path)': \(error)")
        }
    }

    /// Moves a finished temporary file into place as `pointer`'s object after checking its
    /// size and SHA-256: a download that went wrong never enters the store.
    public func adopt(_ path: String, as pointer: LFSPointer) throws {
        let digest = try ContentHash.sha256(fileAt: URL(fileURLWithPath: path))
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
        guard digest == pointer.oid, size == pointer.size else {
            unlink(path)
            throw TensorStoreError(
                "the LFS object \(pointer) arrived with other bytes (\(size) bytes, sha256 \(digest.prefix(12))…); it was not stored",
                hint: "run the command again; if it fails the same way, the remote's copy is damaged")
        }
        try install(path, as: pointer)
    }

    private func install(_ path: String, as pointer: LFSPointer) throws {
        let target = url(of: pointer.oid)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Objects are read-only, as git-lfs leaves them.
        chmod(path, 0o444)
        guard rename(path, target.path) == 0 else {
            throw TensorStoreError("could not move an LFS object into '\(target.path)': \(String(cString: strerror(errno)))")
        }
    }

    /// A file for a download of `pointer`'s object that survives an interruption, so the
    /// next attempt resumes where this one stopped (`<root>/incomplete/<oid>`).
    public func partialDownload(of pointer: LFSPointer) throws -> URL {
        let folder = root.appendingPathComponent("incomplete")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent(pointer.oid)
    }

    /// Maps the object for reading. Nil when it is not here.
    public func map(_ pointer: LFSPointer) throws -> MappedRegion? {
        guard contains(pointer) else { return nil }
        let file = try OpenFile(url(of: pointer.oid).path)
        guard pointer.size > 0 else { return nil }
        return try MappedRegion(file, offset: 0, count: pointer.size)
    }
}
