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
    /// paths, leaving every other path (and the user's staged changes to it) alone.
    func sync(_ proposal: Proposal) throws {
        guard let workdir = repository.workingDirectory else { return }
        let index = try repository.index()
        try index.reload()
        let newPaths = Set(proposal.files.map(\.path))
        var trash = Trash(root: state.trash)
        defer { trash.empty() }
        let reader = tensors.reader()
        for folder in proposal.replacedFolders {
            for stale in index.paths(under: folder + "/") where !newPaths.contains(stale) {
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
        }
        try assembly.place(proposal.assembled, trash: &trash)
        var attempt = 0
        while true {
            do {
                try index.write()
                return
            } catch let error as GitError where error.code == .locked && attempt < 100 {
                attempt += 1
                usleep(50_000)
            }
        }
    }
}
