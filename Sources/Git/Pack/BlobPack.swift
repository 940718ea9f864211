import CGit2
import CPackChecksums
import Foundation
import SystemIO

/// A blob held in memory together with its id, as computed by `ObjectDatabase.hash(blob:)`.
/// The pairing is what lets a pack take the bytes without hashing them again.
public struct HashedBlob: @unchecked Sendable {
    public let id: ObjectID
    /// Owned by whoever made the blob; must stay valid until it is added to a pack.
    public let bytes: UnsafeRawBufferPointer
    /// Adler-32 and per-block CRC-32 of the bytes as a stored zlib stream lays them out,
    /// computed on the hashing thread so the packing thread only copies.
    let checksums: StoredChecksums
    /// For data that compresses: the whole zlib stream and its CRC-32, deflated on the
    /// hashing thread (and every core) so the packing thread only copies it.
    let deflated: (stream: [UInt8], crc32: UInt32)?

    /// Memory the deflated stream holds besides `bytes`, if there is one.
    public var deflatedBytes: Int? { deflated?.stream.count }
}

/// What a stored-deflate pack entry needs besides the bytes: the zlib trailer's Adler-32 and
/// the CRC-32 of each ≤ 65,535-byte block (combined with the block headers' into the idx CRC).
struct StoredChecksums: Sendable {
    let adler32: UInt32
    let blockCRCs: [UInt32]

    init(of bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            adler32 = 1
            blockCRCs = []
            return
        }
        adler32 = mv_adler32(1, base, bytes.count)
        blockCRCs = stride(from: 0, to: bytes.count, by: PackWriter.storedBlockSize).map { offset in
            mv_crc32(0, base + offset, min(PackWriter.storedBlockSize, bytes.count - offset))
        }
    }
}

extension ObjectDatabase {
    /// The blob id of `bytes` with git's collision-detecting SHA-1 (libgit2's `git_odb_hash`).
    /// Needs no repository, so any thread may call it; a crafted SHA-1 collision is refused.
    public static func hash(blob bytes: UnsafeRawBufferPointer) throws -> HashedBlob {
        let id = try blobID(of: bytes)
        let checksums = StoredChecksums(of: bytes)
        var deflated: (stream: [UInt8], crc32: UInt32)?
        if PackWriter.compresses(bytes), let stream = SegmentedDeflate.stream(of: bytes, adler32: checksums.adler32) {
            deflated = (stream, stream.withUnsafeBytes { mv_crc32(0, $0.baseAddress, $0.count) })
        }
        return HashedBlob(id: id, bytes: bytes, checksums: checksums, deflated: deflated)
    }
}

/// New blobs from memory written into one new pack (see `PackWriter`): stored deflate for
/// data that does not compress, nothing for blobs the repository already has or that were
/// added before. Use from the thread that owns the repository; call `finish()` to make the
/// objects visible — dropping the writer without it leaves nothing behind.
public final class BlobPack {
    private let writer: PackWriter
    private let odb: OpaquePointer
    private var added = Set<ObjectID>()
    /// Objects present but not to be relied on (in packs no commit may ever reference): a
    /// blob among them is written again.
    private let avoiding: Set<ObjectID>
    public private(set) var writtenBytes: UInt64 = 0

    /// `expectedObjects`/`expectedBytes` size the pack header and disk reservation; more or
    /// fewer is fine.
    public init(_ objects: ObjectDatabase, expectedObjects: Int, expectedBytes: UInt64, avoiding: Set<ObjectID> = []) throws {
        self.avoiding = avoiding
        var odb: OpaquePointer?
        try check(git_repository_odb(&odb, objects.repository.pointer), "opening the object database")
        guard let odb else { throw GitError(code: .other(-1), message: "", context: "opening the object database") }
        self.odb = odb
        do {
            writer = try PackWriter(
                packDirectory: try objects.objectsDirectory().appendingPathComponent("pack"),
                expectedObjects: expectedObjects,
                expectedBytes: expectedBytes > 0 ? expectedBytes + UInt64(expectedObjects) * 64 : 0)
        } catch {
            git_odb_free(odb)
            throw error
        }
    }

    deinit { git_odb_free(odb) }

    /// Whether the repository or this pack already holds `id`.
    public func contains(_ id: ObjectID) -> Bool {
        if added.contains(id) { return true }
        if avoiding.contains(id) { return false }
        var oid = id.raw
        return git_odb_exists(odb, &oid) == 1
    }

    /// Writes the blob unless it is already stored; true when it was written.
    @discardableResult
    public func add(_ blob: HashedBlob) throws -> Bool {
        guard !contains(blob.id) else { return false }
        // `hash(blob:)` already decided: a stream when samples compress, stored blocks otherwise.
        if let deflated = blob.deflated {
            try writer.appendDeflated(deflated.stream, crc32: deflated.crc32, size: blob.bytes.count, id: blob.id)
        } else {
            try writer.appendStored(blob.bytes, id: blob.id, checksums: blob.checksums)
        }
        added.insert(blob.id)
        writtenBytes += UInt64(blob.bytes.count)
        return true
    }

    /// Seals and installs the pack (nothing when no blob was new); `beforeInstalling` gets
    /// its name first.
    public func finish(beforeInstalling: (String) throws -> Void = { _ in }) throws {
        if try writer.finish(beforeInstalling: beforeInstalling) != nil {
            try check(git_odb_refresh(odb), "rereading the object database after writing a pack")
        }
    }
}

extension BlobPack {
    /// Removes what mv pack writers that were killed left in `objects/pack/`; returns the bytes
    /// freed.
    public static func removeAbandonedTemporaries(_ objects: ObjectDatabase) -> Int64 {
        guard let folder = try? objects.objectsDirectory().appendingPathComponent("pack") else { return 0 }
        return PackWriter.removeAbandonedTemporaries(in: folder)
    }

    /// The objects pack `name` (`pack-<checksum>`) holds, as its index lists them; nil when
    /// it is not there or its index is unreadable.
    public static func objectIDs(inPack name: String, _ objects: ObjectDatabase) -> [ObjectID]? {
        guard let folder = try? objects.objectsDirectory().appendingPathComponent("pack") else { return nil }
        return PackIndex.File.open(folder.appendingPathComponent(name + ".idx"))?.ids()
    }

    /// Deletes pack `name`, index first so that no reader finds an index without its pack,
    /// and makes libgit2 forget it; returns the bytes freed. Only for a pack nothing refers to.
    public static func removePack(_ name: String, _ objects: ObjectDatabase) -> Int64 {
        guard let folder = try? objects.objectsDirectory().appendingPathComponent("pack") else { return 0 }
        var freed: Int64 = 0
        for suffix in [".idx", ".pack"] {
            let url = folder.appendingPathComponent(name + suffix)
            freed += FileStamp(path: url.path)?.size ?? 0
            FileSystem.remove(url)
        }
        var odb: OpaquePointer?
        if git_repository_odb(&odb, objects.repository.pointer) == 0 {
            _ = git_odb_refresh(odb)
            git_odb_free(odb)
        }
        return freed
    }
}

extension ObjectDatabase {
    /// `objects/` as libgit2 resolves it (GIT_OBJECT_DIRECTORY, commondir of a worktree).
    func objectsDirectory() throws -> URL {
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        try check(git_repository_item_path(&buffer, repository.pointer, GIT_REPOSITORY_ITEM_OBJECTS), "locating objects/")
        guard let path = buffer.ptr else { throw GitError(code: .notFound, message: "", context: "locating objects/") }
        return URL(fileURLWithPath: String(cString: path), isDirectory: true)
    }
}
