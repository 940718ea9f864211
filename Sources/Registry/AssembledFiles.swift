import Foundation
import Git
import ModelFormat
#if canImport(Glibc)
import Glibc
#endif

/// The work-tree `.npy` of a tensor stored in chunks: Git holds the chunks (index entries
/// with the skip-worktree bit), the work tree holds their concatenation, which `numpy.load`
/// reads and the model folder's `.gitignore` hides from Git.
public struct AssembledFile: Sendable, Equatable {
    public var path: String
    public var chunks: [ObjectID]
    /// mv's staging copy to move into place; nil to keep the file there (when intact) or
    /// assemble it from the chunk blobs.
    public var source: URL?
    /// Set when only some chunks changed: the chunks the work-tree file holds now, and the
    /// new chunks' bytes to write over it in place (a 4 GiB tensor with one changed row is
    /// then 32 MiB of writes, not 4 GiB). If the file is no longer intact, it is assembled
    /// from the chunk blobs instead.
    public var base: [ObjectID]?
    public var patches: [Patch] = []

    /// Bytes staged in `source` to write at `offset` of the work-tree file.
    public struct Patch: Sendable, Equatable {
        public var offset: Int
        public var source: URL
    }

    public init(path: String, chunks: [ObjectID], source: URL?) {
        self.path = path
        self.chunks = chunks
        self.source = source
    }
}

/// What mv last wrote to each assembled file (`.git/mv/assembled.json`): its stamp and the
/// chunks it was made of, so that mv can tell later — without reading it — whether the file
/// still holds those bytes, as git tells with its index.
struct AssembledFiles {
    struct Entry: Codable, Equatable {
        var size: Int64
        var inode: UInt64
        var modified: Int
        var modifiedNanoseconds: Int
        var changed: Int
        var changedNanoseconds: Int
        var chunks: [String]
    }

    let url: URL
    private(set) var entries: [String: Entry]

    init(gitDirectory: URL) {
        url = gitDirectory.appendingPathComponent("mv/assembled.json")
        entries = (try? JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: url))) ?? [:]
    }

    func paths(under prefix: String) -> [String] {
        entries.keys.filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// True when the file is still what mv assembled from exactly `chunks`.
    func isIntact(_ path: String, workdir: URL, chunks: [ObjectID]) -> Bool {
        guard let entry = entries[path], entry.chunks == chunks.map(\.description),
              let now = Self.stamp(workdir.appendingPathComponent(path)) else { return false }
        return now == Entry(size: entry.size, inode: entry.inode, modified: entry.modified,
                            modifiedNanoseconds: entry.modifiedNanoseconds, changed: entry.changed,
                            changedNanoseconds: entry.changedNanoseconds, chunks: [])
    }

    /// Paths under `prefix` whose file was changed or removed since mv wrote it.
    func changedFiles(under prefix: String, workdir: URL) -> [String] {
        paths(under: prefix).filter { path in
            guard let entry = entries[path] else { return false }
            return !isIntact(path, workdir: workdir, chunks: entry.chunks.compactMap { ObjectID(hex: $0) })
        }
    }

    mutating func record(_ path: String, workdir: URL, chunks: [ObjectID]) throws {
        guard var entry = Self.stamp(workdir.appendingPathComponent(path)) else {
            throw MVError("cannot read '\(path)' just written: \(String(cString: strerror(errno)))")
        }
        entry.chunks = chunks.map(\.description)
        entries[path] = entry
    }

    mutating func forget(_ path: String) {
        entries[path] = nil
    }

    func save() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try encoder.encode(entries).writeUnsynced(to: url, atomically: true)
    }

    private static func stamp(_ file: URL) -> Entry? {
        var info = stat()
        guard stat(file.path, &info) == 0 else { return nil }
        return Entry(size: Int64(info.st_size), inode: UInt64(info.st_ino), modified: info.st_mtim.tv_sec,
                     modifiedNanoseconds: info.st_mtim.tv_nsec, changed: info.st_ctim.tv_sec,
                     changedNanoseconds: info.st_ctim.tv_nsec, chunks: [])
    }
}

extension Registry {
    /// Brings the work tree's chunked tensors in line with HEAD after Git itself changed it
    /// (`git checkout`, `git switch`, `git merge`, a fresh clone): each assembled `.npy` is
    /// rebuilt from its chunks unless it is intact, chunk files Git wrote out are removed and
    /// their index entries get the skip-worktree bit, assembled files of tensors HEAD no
    /// longer has are deleted. Returns the paths rebuilt. Run by the post-checkout and
    /// post-merge hooks and by `mv init`.
    @discardableResult
    public func reassembleWorkTree() throws -> [String] {
        guard let workdir = repository.workingDirectory, let head = try repository.head().target else { return [] }
        let lock = try writer.lock()
        defer { withExtendedLifetime(lock) {} }
        let tree = try repository.tree(repository.commit(head).treeID)
        var assembled = AssembledFiles(gitDirectory: repository.gitDirectory)
        let index = try repository.index()
        try index.reload()
        var wanted = Set<String>()
        var rebuilt: [String] = []
        var indexChanged = false
        if let root = try tree.entry(atPath: config.modelsRoot), root.isTree {
            for folderEntry in try repository.tree(root.id).entries where folderEntry.isTree {
                let folder = "\(config.modelsRoot)/\(folderEntry.name)"
                guard let manifestEntry = try tree.entry(atPath: "\(folder)/\(Manifest.fileName)"),
                      let manifest = try? Manifest.parse(String(decoding: try repository.objects.readBlob(manifestEntry.id), as: UTF8.self))
                else { continue }
                for record in manifest.params where record.chunkBytes != nil {
                    guard let chunkTree = try tree.entry(atPath: "\(folder)/\(record.chunkFolder)"), chunkTree.isTree else { continue }
                    let chunks = try repository.tree(chunkTree.id).entries.filter { !$0.isTree }.sorted { $0.name < $1.name }
                    let path = "\(folder)/\(record.file)"
                    wanted.insert(path)
                    for chunk in chunks {
                        let chunkPath = "\(folder)/\(record.chunkFolder)/\(chunk.name)"
                        // Only entries that match HEAD: a chunk the user staged is theirs.
                        guard index.entry(atPath: chunkPath)?.id == chunk.id else { continue }
                        let file = workdir.appendingPathComponent(chunkPath)
                        if FileManager.default.fileExists(atPath: file.path) { try? FileManager.default.removeItem(at: file) }
                        if !index.skipsWorktree(chunkPath) {
                            try index.addSkippingWorktree(path: chunkPath, id: chunk.id, mode: chunk.mode)
                            indexChanged = true
                        }
                    }
                    try? FileManager.default.removeItem(at: workdir.appendingPathComponent("\(folder)/\(record.chunkFolder)"))
                    let ids = chunks.map(\.id)
                    if assembled.isIntact(path, workdir: workdir, chunks: ids) { continue }
                    let destination = workdir.appendingPathComponent(path)
                    try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
                    let temporary = destination.deletingLastPathComponent().appendingPathComponent(".mv-tmp-\(UUID().uuidString)")
                    try repository.objects.writeTensor(ids, toFileAt: temporary)
                    guard rename(temporary.path, destination.path) == 0 else {
                        try? FileManager.default.removeItem(at: temporary)
                        throw MVError("cannot write '\(destination.path)': \(String(cString: strerror(errno)))")
                    }
                    try assembled.record(path, workdir: workdir, chunks: ids)
                    rebuilt.append(path)
                }
            }
        }
        for stale in assembled.paths(under: "") where !wanted.contains(stale) {
            try? FileManager.default.removeItem(at: workdir.appendingPathComponent(stale))
            assembled.forget(stale)
        }
        if indexChanged { try index.write() }
        try assembled.save()
        return rebuilt
    }
}
