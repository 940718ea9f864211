import Foundation
import Git
import SystemIO
import TensorStore

/// The writers' lock of one mv process: the `flock` on `.git/mv.lock`, with SIGINT, SIGTERM
/// and SIGHUP held back until it is released, so Ctrl-C lands between updates, never inside
/// one (`DeferredSignals`).
final class WriterLock {
    private let file: FileLock
    private let signals: DeferredSignals

    init(_ file: FileLock) {
        self.file = file
        signals = DeferredSignals()
    }
}

/// `.git/index.lock`, and telling git's lock from one an interrupted mv left.
enum IndexLock {
    static func url(_ repository: Repository) -> URL { repository.gitDirectory.appendingPathComponent("index.lock") }

    /// The error when another program holds the index.
    static func busy(_ repository: Repository) -> MVError {
        let path = url(repository).path
        return MVError(
            "'\(path)' exists: another git process is using the index, or one was killed while it did; nothing was changed",
            hint: "if no git command is running in this repository, remove it ('rm \(path)') and run the command again")
    }
}

extension Registry {
    /// Takes the writers' lock (waiting for another mv to finish), holding back Ctrl-C until
    /// it is released, and first puts right what an interrupted mv left: it finishes a
    /// work-tree update whose commit landed, withdraws a tag whose commit did not, removes
    /// its own stale `index.lock` and the temporary files of mv processes that are gone.
    /// Refuses (naming the file) while another program holds `.git/index.lock`.
    func lockForWriting() throws -> WriterLock {
        let file: FileLock
        do {
            file = try writer.lock()
        } catch let error as SystemError where [EACCES, EPERM, EROFS].contains(error.code) {
            throw readOnly(reason: error.reason)
        }
        let lock = WriterLock(file)
        try recover()
        return lock
    }

    /// The one message for a `.git` mv may not write in, whichever write found it first.
    func readOnly(reason: String) -> MVError {
        MVError(
            "cannot write in '\(repository.gitDirectory.path)' (\(reason)): mv records versions there, and this command writes",
            hint: "reading commands (list, show, log, diff, verify, export) still work; to write, use a clone you own ('git clone …')")
    }

    /// Recovery, under the writers' lock. Each thing done is reported through `notice` and
    /// logged in `.git/mv/recovered`.
    func recover() throws {
        var notes: [String] = []
        if repository.workingDirectory != nil {
            if let note = removeStaleIndexLock() { notes.append(note) }
            try waitForIndex()
        }
        if let journal = WorkTreeJournal.read(state) {
            notes += removeStaleRefLocks(journal)
            notes += try finish(journal)
        } else if WorkTreeJournal.exists(state) {
            // Unreadable (cut short by a crash while it was written): nothing moved yet.
            WorkTreeJournal.remove(state)
        }
        let freed = state.removeAbandonedStaging() + tensors.removeAbandonedFiles()
        if freed > 0 { notes.append("removed \(Self.bytes(freed)) of temporary files left by an interrupted mv") }
        Trash(root: state.trash).removeAbandoned()
        for note in notes { record(note) }
    }

    /// `.git/index.lock` left by an mv that was killed while writing the index: the owner's
    /// process id is on record and that process is gone.
    private func removeStaleIndexLock() -> String? {
        let lock = IndexLock.url(repository)
        guard FileManager.default.fileExists(atPath: lock.path) else {
            FileSystem.remove(state.indexLockOwner)
            return nil
        }
        guard let text = FileManager.default.contents(atPath: state.indexLockOwner.path),
            let pid = Int32(String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
            !Processes.isAlive(pid)
        else { return nil }
        FileSystem.remove(lock)
        FileSystem.remove(state.indexLockOwner)
        return "removed '\(lock.path)', left by an mv that was interrupted while writing the index"
    }

    /// The lock files (`<ref>.lock`, `packed-refs.lock`) of the refs a journaled update
    /// moves, left when its mv was killed while libgit2 held them: every later update of
    /// those refs would fail as if another writer were busy. The journal's writer is gone (we
    /// hold the writers' lock), and a git command holds such a lock for milliseconds, so one
    /// still there after 2 s is removed.
    private func removeStaleRefLocks(_ journal: WorkTreeJournal) -> [String] {
        let refs = [journal.reference, journal.tag].compactMap { $0 }
        var locks = refs.map { ref in
            (ref == "HEAD" ? repository.gitDirectory : repository.commonDirectory).appendingPathComponent(ref + ".lock")
        }
        locks.append(repository.commonDirectory.appendingPathComponent("packed-refs.lock"))
        locks = locks.filter { FileManager.default.fileExists(atPath: $0.path) }
        for _ in 0..<40 where !locks.isEmpty {
            usleep(50_000)
            locks = locks.filter { FileManager.default.fileExists(atPath: $0.path) }
        }
        return locks.map { lock in
            FileSystem.remove(lock)
            return "removed '\(lock.path)', left by an mv that was interrupted while it moved refs"
        }
    }

    /// Waits up to 2 s for another program's `index.lock` to go (git holds it for a moment
    /// while it refreshes the index); refuses, naming it, when it stays.
    private func waitForIndex() throws {
        let lock = IndexLock.url(repository)
        for _ in 0..<40 {
            guard FileManager.default.fileExists(atPath: lock.path) else { return }
            usleep(50_000)
        }
        guard !FileManager.default.fileExists(atPath: lock.path) else { throw IndexLock.busy(repository) }
    }

    /// Finishes the update `journal` records, or withdraws it when its commit never landed.
    private func finish(_ journal: WorkTreeJournal) throws -> [String] {
        var notes: [String] = []
        if let commit = journal.commit, let reference = journal.reference {
            let current = reference == "HEAD" ? try repository.head().target : try repository.referenceTarget(reference)
            guard current?.description == commit else {
                // The branch did not move to the commit: either the kill came before (a tag
                // published a moment earlier points off the branch: withdrawn), or the branch
                // moved on since (someone committed on top: their work tree, left alone).
                let published = ObjectID(hex: commit)
                let landed =
                    try current.map { current in try published.map { try repository.isDescendant(current, of: $0) } ?? false } ?? false
                if !landed, let tag = journal.tag, let object = journal.tagObject.flatMap(ObjectID.init(hex:)),
                    try repository.referenceTarget(tag) == object
                {
                    try repository.deleteReference(tag, expecting: object)
                    notes.append("withdrew tag '\(tag.dropFirst("refs/tags/".count))' of an interrupted mv whose commit never landed")
                }
                WorkTreeJournal.remove(state)
                return notes
            }
        }
        guard let workdir = repository.workingDirectory else {
            WorkTreeJournal.remove(state)
            return notes
        }
        // A file the user changed since mv stopped (it holds neither what it held before nor
        // what it gets) is theirs: left as it is, and said so.
        var kept = Set<String>()
        var written = 0
        for file in journal.files where file.placement != .skipWorktree {
            let url = workdir.appendingPathComponent(file.path)
            guard FileManager.default.fileExists(atPath: url.path) else {
                written += 1
                continue
            }
            // LFS pointers stand for their objects: the file is compared with what each names.
            let lfs = tensors.lfsObjects
            if let blob = ObjectID(hex: file.blob), try lfs.fileHolds(url, blob) { continue }
            if let before = journal.before[file.path].flatMap(ObjectID.init(hex:)), try lfs.fileHolds(url, before) {
                written += 1
                continue
            }
            kept.insert(file.path)
        }
        let newPaths = Set(journal.files.map(\.path))
        for (path, blob) in journal.before where !newPaths.contains(path) {
            let url = workdir.appendingPathComponent(path)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            if try !(ObjectID(hex: blob).map { try tensors.lfsObjects.fileHolds(url, $0) } ?? false) { kept.insert(path) }
        }
        let record = AssembledFiles(state)
        for file in journal.assembled {
            let url = workdir.appendingPathComponent(file.path)
            let chunks = file.chunks.compactMap { ObjectID(hex: $0) }
            let before = (journal.beforeAssembled[file.path] ?? []).compactMap { ObjectID(hex: $0) }
            guard FileManager.default.fileExists(atPath: url.path), !record.isIntact(file.path, workdir: workdir, chunks: chunks) else {
                continue
            }
            // The record is saved after the files are placed, so a kill can leave a file mv
            // patched or wrote looking unknown by its stamp: its bytes decide.
            if !record.isIntact(file.path, workdir: workdir, chunks: before),
                try WorkTreeAssembly.content(of: url, new: chunks, old: before, lfs: tensors.lfsObjects) == .other
            {
                kept.insert(file.path)
                continue
            }
            written += 1
        }
        removeTemporaryFiles(
            in: Set(newPaths.union(journal.before.keys).map { ($0 as NSString).deletingLastPathComponent }), workdir: workdir)
        try workTree.sync(journal.proposal, keeping: kept)
        let folders = journal.replacedFolders.isEmpty ? newPaths.sorted() : journal.replacedFolders
        notes.append(
            "finished an interrupted update ('\(journal.summary)'): \(written) file(s) of \(folders.joined(separator: ", ")) written")
        for path in kept.sorted() {
            notes.append("'\(path)' was changed after mv was interrupted, so it was left as it is: see 'git status'")
        }
        return notes
    }

    /// Removes mv's temporary files (`.mv-tmp-*`) from `folders` of the work tree: under the
    /// writers' lock, one found there belongs to an mv that is gone.
    func removeTemporaryFiles(in folders: Set<String>, workdir: URL) {
        for folder in folders {
            let url = workdir.appendingPathComponent(folder)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [] where name.hasPrefix(".mv-tmp-") {
                try? FileManager.default.removeItem(at: url.appendingPathComponent(name))
            }
        }
    }

    /// The same for every folder under `folder` of the work tree (a model folder).
    func removeTemporaryFiles(under folder: String) {
        guard let workdir = repository.workingDirectory else { return }
        let root = workdir.appendingPathComponent(folder)
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return }
        for case let path as String in walker where (path as NSString).lastPathComponent.hasPrefix(".mv-tmp-") {
            try? FileManager.default.removeItem(at: root.appendingPathComponent(path))
        }
    }

    /// A commit made on a detached HEAD is reachable from its tag only (and from nothing for
    /// an evaluation without one): say so.
    func warnIfDetached(_ published: Published) {
        guard published.branch == "HEAD" else { return }
        let holder = published.tagName.map { "only from its tag '\($0)'" } ?? "from no branch"
        notice?(
            "warning: HEAD is detached, so commit \(published.commit.short) is reachable \(holder); keep it on a branch with 'git switch -c <branch>'"
        )
    }

    /// Reports `note` (the CLI prints it) and keeps it in `.git/mv/recovered` for `mv status`.
    func record(_ note: String) {
        notice?(note)
        AppendedLines.append(["\(Environment.timestamp(Date())) \(note)"], to: state.recoveryLog, limit: 64 << 10)
    }

    static func bytes(_ count: Int64) -> String {
        count >= 1 << 20 ? String(format: "%.1f MiB", Double(count) / 1_048_576) : "\(count) bytes"
    }
}
