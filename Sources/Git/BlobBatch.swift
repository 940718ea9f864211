import CGit2
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension ObjectDatabase {
    /// Files smaller than this go through the loose object path: a pack per handful of small
    /// files would only add pack files for `git gc` to merge.
    public static let packedBlobThreshold = 64 * 1024

    /// Stores many (large) files as blobs at close to disk and hash speed, returning their ids
    /// in the order of `files`.
    ///
    /// Files of `packedBlobThreshold` bytes and more go into one new pack written directly
    /// (see `PackWriter`), while their ids are computed with collision-detecting SHA-1 on
    /// other threads (see `BlobHashQueue`). Blobs the repository already has, and repeats
    /// within `files`, are not written again; when nothing is new no pack appears. Memory
    /// stays at a few MiB whatever the file sizes. `progress` is called on this thread with
    /// the bytes of `files` handled so far. On failure nothing half-written is left behind.
    public func writeBlobs(files: [URL], progress: ((Int64) -> Void)? = nil) throws -> [ObjectID] {
        try writeBlobs(files: files, packingFrom: Self.packedBlobThreshold, hashWorkers: Self.defaultHashWorkers,
                       progress: progress)
    }

    /// Two hashing threads even on two cores: sha1dc is the slowest stage, and the writer
    /// thread mostly waits on the disk (measured: 512 MiB next version 5.1 s -> 4.2-4.3 s).
    static var defaultHashWorkers: Int { max(1, min(2, ProcessInfo.processInfo.activeProcessorCount)) }

    func writeBlobs(files: [URL], packingFrom threshold: Int, hashWorkers: Int,
                    progress: ((Int64) -> Void)?) throws -> [ObjectID] {
        let stamps = try files.map(FileStamp.init(of:))
        var ids = [ObjectID?](repeating: nil, count: files.count)
        var handled: Int64 = 0

        var odb: OpaquePointer?
        try check(git_repository_odb(&odb, repository.pointer), "opening the object database")
        defer { git_odb_free(odb) }
        func exists(_ id: ObjectID) -> Bool {
            var oid = id.raw
            return git_odb_exists(odb, &oid) == 1
        }

        // Small files: loose objects, as `writeBlob(fileAt:)` always stored them.
        var large: [Int] = []
        for (index, url) in files.enumerated() {
            guard stamps[index].size < UInt64(threshold) else {
                large.append(index)
                continue
            }
            var oid = git_oid()
            try check(git_odb_hashfile(&oid, url.path, GIT_OBJECT_BLOB), "hashing '\(url.path)'")
            let id = exists(ObjectID(oid)) ? ObjectID(oid) : try writeBlob(fileAt: url)
            try stamps[index].verifyUnchanged(url)
            ids[index] = id
            handled += Int64(stamps[index].size)
            progress?(handled)
        }

        if !large.isEmpty {
            try writePacked(large, of: files, stamps: stamps, into: &ids, odb: odb, exists: exists,
                            hashWorkers: hashWorkers, handled: &handled, progress: progress)
        }
        return try ids.enumerated().map { index, id in
            guard let id else { throw GitError(code: .other(-1), message: "", context: "no id for '\(files[index].path)'") }
            return id
        }
    }

    private func writePacked(_ indices: [Int], of files: [URL], stamps: [FileStamp], into ids: inout [ObjectID?],
                             odb: OpaquePointer?, exists: (ObjectID) -> Bool, hashWorkers: Int,
                             handled: inout Int64, progress: ((Int64) -> Void)?) throws {
        let hashes = BlobHashQueue(paths: indices.map { files[$0].path }, workers: hashWorkers)
        defer { hashes.cancel() }
        let writer = try PackWriter(packDirectory: try objectsDirectory().appendingPathComponent("pack"),
                                    expectedObjects: indices.count,
                                    expectedBytes: indices.reduce(32) { $0 + PackWriter.storedSize(of: stamps[$1].size) })
        var inPack = Set<ObjectID>()
        var tally = ProgressTally(handled: handled, callback: progress)

        for (position, index) in indices.enumerated() {
            let url = files[index], size = stamps[index].size
            let before = tally.handled
            // Known in time: skip or write. Not yet: write while the hash finishes and drop the
            // object again if it turns out to be stored already, so hashing and writing a
            // single huge file still overlap.
            let id: ObjectID
            if let known = hashes.outcome(position, wait: false) {
                id = try known.get()
                if !(exists(id) || inPack.contains(id)) {
                    let mark = try append(url, size: size, to: writer) { tally.add($0) }
                    writer.record(id: id, for: mark)
                    inPack.insert(id)
                }
            } else {
                let mark = try append(url, size: size, to: writer) { tally.add($0) }
                guard let outcome = hashes.outcome(position, wait: true) else {
                    throw GitError(code: .other(-1), message: "", context: "no id computed for '\(url.path)'")
                }
                id = try outcome.get()
                if exists(id) || inPack.contains(id) {
                    try writer.rollBack(to: mark)
                } else {
                    writer.record(id: id, for: mark)
                    inPack.insert(id)
                }
            }
            // The id and the packed bytes were read separately: both are the file's only if it
            // did not change meanwhile.
            try stamps[index].verifyUnchanged(url)
            ids[index] = id
            tally.finishFile(at: before + Int64(size))
        }
        handled = tally.handled
        if try writer.finish() != nil {
            // libgit2 would find the pack on its next miss anyway; refresh so the next lookup
            // does not pay for that miss.
            try check(git_odb_refresh(odb), "rereading the object database after writing a pack")
        }
    }

    private func append(_ url: URL, size: UInt64, to writer: PackWriter, progress: (Int) -> Void) throws -> PackWriter.Mark {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PackWriter.error("cannot open '\(url.path)'", errno: errno) }
        defer { close(fd) }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        return try writer.appendBlob(from: fd, size: size, name: url.path, progress: progress)
    }

    /// `objects/` as libgit2 resolves it (GIT_OBJECT_DIRECTORY, commondir of a worktree).
    func objectsDirectory() throws -> URL {
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        try check(git_repository_item_path(&buffer, repository.pointer, GIT_REPOSITORY_ITEM_OBJECTS), "locating objects/")
        guard let path = buffer.ptr else { throw GitError(code: .notFound, message: "", context: "locating objects/") }
        return URL(fileURLWithPath: String(cString: path), isDirectory: true)
    }
}

/// Bytes handled so far, reported at most once per MiB and at the end of each file.
private struct ProgressTally {
    var handled: Int64
    private var reported: Int64
    let callback: ((Int64) -> Void)?

    init(handled: Int64, callback: ((Int64) -> Void)?) {
        self.handled = handled
        self.reported = handled
        self.callback = callback
    }

    mutating func add(_ bytes: Int) {
        handled += Int64(bytes)
        if handled - reported >= 1 << 20 { report() }
    }

    mutating func finishFile(at total: Int64) {
        handled = total
        if handled != reported { report() }
    }

    private mutating func report() {
        reported = handled
        callback?(handled)
    }
}

/// What `stat` says of a file before it is stored, to notice it changing while being read.
struct FileStamp {
    let size: UInt64
    private let device: UInt64
    private let inode: UInt64
    private let modified: timespec
    private let changed: timespec

    init(of url: URL) throws {
        var info = stat()
        guard stat(url.path, &info) == 0 else { throw PackWriter.error("cannot read '\(url.path)'", errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw GitError(code: .other(-1), message: "", context: "'\(url.path)' is not a regular file")
        }
        size = UInt64(info.st_size)
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        modified = info.st_mtim
        changed = info.st_ctim
    }

    func verifyUnchanged(_ url: URL) throws {
        let now = try FileStamp(of: url)
        guard now.size == size, now.device == device, now.inode == inode,
              now.modified.tv_sec == modified.tv_sec, now.modified.tv_nsec == modified.tv_nsec,
              now.changed.tv_sec == changed.tv_sec, now.changed.tv_nsec == changed.tv_nsec else {
            throw GitError(code: .other(-1), message: "", context: "'\(url.path)' changed while it was being stored")
        }
    }
}
