import Foundation
import Git
import ModelFormat
import SystemIO
import TensorStore

extension Registry {
    /// Brings the work tree's chunked tensors in line with HEAD after Git itself changed it
    /// (`git checkout`, `git switch`, `git merge`, a fresh clone): each assembled `.npy` is
    /// rebuilt from its chunks unless it is intact, chunk files Git wrote out are removed and
    /// their index entries get the skip-worktree bit, assembled files of tensors HEAD no
    /// longer has are deleted. A tensor file that is a Git LFS pointer (git checked it out
    /// without git-lfs, or with smudging skipped, as mv's own git commands do) gets its
    /// object's bytes, fetched first, all at once, when this clone lacks them. Returns the
    /// paths rebuilt. Run by the post-checkout and post-merge hooks, `mv init` and `mv pull`.
    @discardableResult
    public func reassembleWorkTree() throws -> [String] {
        guard let workdir = repository.workingDirectory, let head = try repository.head().target else { return [] }
        let lock = try lockForWriting()
        defer { withExtendedLifetime(lock) {} }
        let tree = try repository.tree(repository.commit(head).treeID)
        var assembled = AssembledFiles(state)
        let reader = tensors.reader()
        var trash = Trash(root: state.trash)
        defer { trash.empty() }
        let index = try repository.index()
        try index.reload()
        var wanted = Set<String>()
        var rebuilt: [String] = []
        var indexChanged = false
        // Bytes of files written whose stat data goes into the index.
        var indexedBytes = 0
        let lfs = tensors.lfsObjects
        // The objects HEAD's tensors need, in one request (a failure is said, and the files
        // that cannot be written keep their pointers).
        let needed = usesLFS ? try lfsPointers(inCommits: [head]).filter { !lfs.store.contains($0) } : []
        if !needed.isEmpty, let fetcher = lfs.fetcher {
            do {
                try fetcher.fetch(needed, into: lfs.store)
            } catch {
                notice?("could not fetch \(needed.count) tensor object(s) of the checked-out versions: \(error)")
            }
        }
        if let root = try tree.entry(atPath: config.modelsRoot), root.isTree {
            for folderEntry in try repository.tree(root.id).entries where folderEntry.isTree {
                let folder = "\(config.modelsRoot)/\(folderEntry.name)"
                guard let manifestEntry = try tree.entry(atPath: "\(folder)/\(Manifest.fileName)"),
                    let manifest = try? Manifest.parse(String(decoding: try repository.objects.readBlob(manifestEntry.id), as: UTF8.self))
                else { continue }
                for record in manifest.params where record.chunkBytes == nil {
                    let path = "\(folder)/\(record.file)"
                    guard let entry = try tree.entry(atPath: path), index.entry(atPath: path)?.id == entry.id,
                        let pointer = try lfs.pointer(entry.id)
                    else { continue }
                    let file = workdir.appendingPathComponent(path)
                    // A pointer file is small and starts with its version line; the object's
                    // .npy starts with \x93NUMPY.
                    let start = (try? FileHandle(forReadingFrom: file)).flatMap { handle in
                        defer { try? handle.close() }
                        return try? handle.read(upToCount: 8)
                    }
                    // A file the user deleted stays deleted.
                    guard start?.starts(with: Array("version ".utf8)) == true else { continue }
                    guard lfs.store.contains(pointer) else {
                        notice?("'\(path)' stays an LFS pointer: its object \(pointer) is not here; run 'mv pull' to fetch it")
                        continue
                    }
                    try trash.replace(file) { try reader.write([entry.id], to: $0, checked: false) }
                    try index.add(path: path, id: entry.id, mode: entry.mode, statFrom: file)
                    indexChanged = true
                    indexedBytes += pointer.size
                    rebuilt.append(path)
                }
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
                    // Chunks kept as LFS objects this clone lacks: the file waits for them.
                    let absent = try ids.compactMap { try lfs.pointer($0) }.filter { !lfs.store.contains($0) }
                    if !absent.isEmpty {
                        notice?(
                            "'\(path)' is not assembled: \(absent.count) of its chunks' LFS objects are not here; run 'mv pull' to fetch them"
                        )
                        continue
                    }
                    try trash.replace(workdir.appendingPathComponent(path)) { try reader.write(ids, to: $0, checked: false) }
                    try assembled.record(path, workdir: workdir, chunks: ids)
                    rebuilt.append(path)
                }
            }
        }
        for stale in assembled.paths(under: "") where !wanted.contains(stale) {
            try? FileManager.default.removeItem(at: workdir.appendingPathComponent(stale))
            assembled.forget(stale)
        }
        if indexChanged {
            if indexedBytes >= Self.racyCleanBytes { Self.waitForTheNextSecond() }
            try workTree.write(index)
        }
        try assembled.save()
        return rebuilt
    }
}

extension Registry {
    /// Git keeps file times in its index in whole seconds here, so files written in the same
    /// second as the index are "racily clean": the next git command (`git status`, the merge
    /// of `mv pull`) reads them again through git-lfs's clean filter, 3 s for 512 MiB after a
    /// clone. From this many bytes on, waiting for the next second before the index is
    /// written (0.5 s on average) costs less.
    static let racyCleanBytes = 64 << 20

    /// Returns once the clock is in a later second than now.
    static func waitForTheNextSecond() {
        let now = Date().timeIntervalSince1970
        Thread.sleep(forTimeInterval: now.rounded(.down) + 1 - now + 0.01)
    }
}
