import Crypto
import Foundation
import Git
import ModelFormat
import SystemIO

/// Fetches LFS objects missing from the local store (from the repository's remote); the
/// Registry provides one, since only it knows remotes.
public protocol LFSFetcher: AnyObject {
    /// Brings every object of `pointers` into `store`, or throws saying which could not come.
    func fetch(_ pointers: [LFSPointer], into store: LFSObjectStore) throws
}

/// Tells which of the blobs Git holds for tensors are Git LFS pointers, and gives their
/// objects' bytes from the local LFS store, fetching what is missing first. A blob that is not
/// a pointer is its tensor's bytes, so versions written with either storage read alike.
public final class LFSObjects: @unchecked Sendable {
    let objects: ObjectDatabase
    public let store: LFSObjectStore
    public var fetcher: LFSFetcher?
    private let lock = NSLock()
    private var known: [ObjectID: LFSPointer?] = [:]

    public init(objects: ObjectDatabase, store: LFSObjectStore, fetcher: LFSFetcher? = nil) {
        self.objects = objects
        self.store = store
        self.fetcher = fetcher
    }

    /// The pointer `id` holds, or nil when it is a blob of its own bytes. Only small blobs
    /// are read (git-lfs's own cut-off), and each once.
    public func pointer(_ id: ObjectID) throws -> LFSPointer? {
        lock.lock()
        let cached = known[id]
        lock.unlock()
        if let cached { return cached }
        let size = try objects.blobSize(id)
        let pointer = size < LFSPointer.maximumSize ? LFSPointer(parsing: try objects.readBlob(id)) : nil
        lock.lock()
        known[id] = .some(pointer)
        lock.unlock()
        return pointer
    }

    /// The size of what `id` stands for: the object's for a pointer, else the blob's.
    public func size(_ id: ObjectID) throws -> Int {
        try pointer(id)?.size ?? objects.blobSize(id)
    }

    /// Brings the objects of the pointers among `ids` that are not here, all in one request.
    public func fetchMissing(_ ids: [ObjectID]) throws {
        var missing: [LFSPointer] = []
        var seen = Set<String>()
        for id in ids {
            guard let pointer = try pointer(id), !store.contains(pointer), seen.insert(pointer.oid).inserted else { continue }
            missing.append(pointer)
        }
        try fetch(missing)
    }

    /// Fetches `missing` (objects not here), then checks every one arrived.
    private func fetch(_ missing: [LFSPointer]) throws {
        guard !missing.isEmpty else { return }
        guard let fetcher else { throw Self.missing(missing) }
        try fetcher.fetch(missing, into: store)
        let still = missing.filter { !store.contains($0) }
        if !still.isEmpty { throw Self.missing(still) }
    }

    static func missing(_ pointers: [LFSPointer]) -> TensorStoreError {
        TensorStoreError(
            "\(pointers.count) tensor object(s) are not in the local LFS store (e.g. \(pointers[0])) and no remote provides them",
            hint: "run 'mv pull' from a remote that has them (or 'git lfs fetch'), then try again")
    }

    /// The object of `pointer` mapped for reading, fetched first when missing.
    public func map(_ pointer: LFSPointer) throws -> MappedRegion? {
        if !store.contains(pointer) { try fetch([pointer]) }
        return try store.map(pointer)
    }

    /// Calls `body` with the bytes `id` stands for: the LFS object's for a pointer (nil when
    /// `id` is not one).
    public func withObjectBytes<T>(_ id: ObjectID, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T? {
        guard let pointer = try pointer(id) else { return nil }
        guard let region = try map(pointer) else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try withExtendedLifetime(region) { try body(UnsafeRawBufferPointer(region.bytes)) }
    }

    /// Whether a file holds exactly what `id` stands for: for a pointer, its object's size
    /// and SHA-256; else the blob id of its bytes.
    public func fileHolds(_ url: URL, _ id: ObjectID) throws -> Bool {
        if let pointer = try pointer(id) {
            let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? -1
            guard size == pointer.size else { return false }
            return try ContentHash.sha256(fileAt: url) == pointer.oid
        }
        return try objects.hashFile(at: url) == id
    }
}
