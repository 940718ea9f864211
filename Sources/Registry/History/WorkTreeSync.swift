import Foundation
import Git
import SystemIO
import TensorStore

/// Brings the work tree and index in line with a commit `HistoryWriter` just landed, for the
/// proposal's paths only: every other path, and the user's staged changes to it, stay as
/// they were. Files are written to a temporary name and renamed into place (a staged copy
/// is moved, not copied); index entries get the files' stat data, so `git status` sees them
/// clean without hashing them.
struct WorkTreeSync {
    let repository: Repository
    let state: StateFiles
    let tensors: any TensorStore

    /// Makes the work tree and index match what was just committed for the proposal's
    /// paths, leaving every other path (and the user's staged changes to it) alone, and the
    /// paths in `kept` too (files a user changed after an interrupted update, which the
    /// recovery must not overwrite). The journal of the update (written by
    /// `HistoryWriter.publish`, or here for a checkout) is removed once everything is in place.
    func sync(_ proposal: Proposal, keeping kept: Set<String> = []) throws {
        guard let workdir = repository.workingDirectory else {
            WorkTreeJournal.remove(state)
            return
        }
        if !WorkTreeJournal.exists(state) {
            try WorkTreeJournal(proposal: proposal, commit: nil, reference: nil, tag: nil, repository: repository, state: state).write(
                state)
        }
        let index = try repository.index()
        try index.reload()
        let newPaths = Set(proposal.files.map(\.path))
        var trash = Trash(root: state.trash)
        defer { trash.empty() }
        let reader = tensors.reader()
        for folder in proposal.replacedFolders {
            for stale in index.paths(under: folder + "/") where !newPaths.contains(stale) {
                if kept.contains(stale) {
                    // HEAD no longer has it; the user's copy stays, untracked.
                    try index.remove(path: stale)
                    continue
                }
                if !trash.take(workdir.appendingPathComponent(stale)) {
                    try? FileManager.default.removeItem(at: workdir.appendingPathComponent(stale))
                }
                try index.remove(path: stale)
                FileSystem.removeEmptyParents(of: workdir.appendingPathComponent(stale), stopAt: workdir)
            }
        }
        var assembly = WorkTreeAssembly(state, workdir: workdir, reader: reader)
        assembly.removeStale(under: proposal.replacedFolders, keeping: Set(proposal.assembled.map(\.path)), trash: &trash)
        for file in proposal.files {
            let destination = workdir.appendingPathComponent(file.path)
            if kept.contains(file.path) {
                // The user's file stays; the index says what HEAD holds, so git shows their edit.
                try index.addUnverified(path: file.path, id: file.blob, mode: file.mode)
                continue
            }
            switch file.placement {
            case .skipWorktree:
                // A chunk a plain `git checkout` wrote out; the assembled file stands for it.
                if FileManager.default.fileExists(atPath: destination.path) {
                    try? FileManager.default.removeItem(at: destination)
                    FileSystem.removeEmptyParents(of: destination, stopAt: workdir)
                }
                try index.addSkippingWorktree(path: file.path, id: file.blob, mode: file.mode)
                continue
            case .inPlace where FileManager.default.fileExists(atPath: destination.path):
                try index.add(path: file.path, id: file.blob, mode: file.mode, statFrom: destination)
                continue
            case .inPlace, .write:
                break
            }
            try trash.replace(destination) { temporary in
                if let source = file.source, file.ownsSource, (try? FileSystem.rename(source, to: temporary)) != nil {
                    // Moved: a multi-gigabyte tensor is not written twice.
                } else if let source = file.source {
                    try FileManager.default.copyItem(at: source, to: temporary)
                } else {
                    // Around the page cache, as tensors of a checked-out version can be large.
                    try reader.write([file.blob], to: temporary, checked: false)
                }
            }
            try index.add(path: file.path, id: file.blob, mode: file.mode, statFrom: destination)
            CrashPoint.reached("work-tree")
        }
        try assembly.place(proposal.assembled.filter { !kept.contains($0.path) }, trash: &trash)
        try write(index)
        WorkTreeJournal.remove(state)
    }

    /// Writes the index (libgit2 takes `.git/index.lock` for it), with this process's id on
    /// record meanwhile, so that a lock left by a kill is known as mv's own. A lock another
    /// git command holds for a moment is waited for, up to 5 s.
    func write(_ index: Index) throws {
        // A fresh clone has no .git/mv yet.
        try FileManager.default.createDirectory(at: state.indexLockOwner.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("\(Processes.current)\n".utf8).writeUnsynced(to: state.indexLockOwner)
        defer { FileSystem.remove(state.indexLockOwner) }
        var attempt = 0
        while true {
            do {
                try index.write()
                return
            } catch let error as GitError where error.code == .locked {
                guard attempt < 100 else { throw IndexLock.busy(repository) }
                attempt += 1
                usleep(50_000)
            }
        }
    }
}
