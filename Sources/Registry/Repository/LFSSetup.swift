import Foundation
import Git
import SystemIO
import TensorStore

extension Registry {
    /// Points this clone's git at git-lfs for the tensor files, as `git lfs install --local`
    /// does but without its hooks (mv's own hooks stay, and `mv push` uploads objects): with
    /// git-lfs installed, `git status`, `git checkout` and `git add` then see a tensor file
    /// and its pointer as the same. Without git-lfs nothing is set, since git would refuse
    /// to check out files whose required filter it cannot run.
    func configureLFS() throws {
        guard Environment.executable(named: "git-lfs") != nil else {
            notice?(
                "git-lfs is not installed: mv reads and writes LFS objects itself, but the git CLI will show tensor files as changed; install it (apt-get install git-lfs)"
            )
            return
        }
        for (key, value) in [
            ("filter.lfs.clean", "git-lfs clean -- %f"), ("filter.lfs.smudge", "git-lfs smudge -- %f"),
            ("filter.lfs.process", "git-lfs filter-process"), ("filter.lfs.required", "true"),
        ] {
            try repository.setConfigString(key, value)
        }
    }
}

extension Registry {
    /// What a file git hands mv's diff driver stands for: the object's bytes when it is a Git
    /// LFS pointer whose object is in the local store of the repository at `directory` (git
    /// passes the pointer where git-lfs is not set up), else the file's own.
    public static func tensorBytes(_ data: Data, repositoryAt directory: String) -> Data {
        guard let pointer = LFSPointer(parsing: data), let repository = try? Repository.discover(from: directory) else { return data }
        let store = LFSObjectStore(gitDirectory: repository.commonDirectory)
        guard store.contains(pointer), let bytes = try? Data(contentsOf: store.url(of: pointer.oid), options: .alwaysMapped) else {
            return data
        }
        return bytes
    }
}

extension Registry {
    /// Paths under `prefix` whose index or work tree differs from HEAD, as `git status` with
    /// git-lfs sees them: libgit2 runs no git-lfs filter, so a tensor file whose index entry
    /// is an LFS pointer looks changed once its stat data is (a `touch`, a copy), even when it
    /// holds exactly the pointer's object. Such files are compared by size and SHA-256.
    func changes(under prefix: String) throws -> [StatusEntry] {
        let entries = try repository.status(under: prefix)
        guard let workdir = repository.workingDirectory,
            entries.contains(where: { $0.isChangedInWorkTree && !$0.isStaged && !$0.isUntracked })
        else { return entries }
        let index = try repository.index()
        var refreshed = false
        let changes = try entries.filter { entry in
            guard entry.isChangedInWorkTree, !entry.isStaged, !entry.isUntracked, let staged = index.entry(atPath: entry.path),
                try tensors.lfsObjects.pointer(staged.id) != nil
            else { return true }
            let file = workdir.appendingPathComponent(entry.path)
            guard try tensors.lfsObjects.fileHolds(file, staged.id) else { return true }
            // Its stat data goes into the index, as git's own refresh does, so the file is
            // not hashed again next time.
            if let mode = FileMode(rawValue: staged.mode),
                (try? index.add(path: entry.path, id: staged.id, mode: mode, statFrom: file)) != nil
            {
                refreshed = true
            }
            return false
        }
        // Best effort: another git holding the index only means the next check hashes again.
        if refreshed { try? workTree.write(index) }
        return changes
    }
}

extension Registry {
    /// Brings the LFS objects these versions' tensors need and this clone lacks, in one
    /// transfer, before a command reads them one by one.
    func prefetchTensors(of contents: [VersionContent]) throws {
        try tensors.lfsObjects.fetchMissing(contents.flatMap { $0.tensorBlobs.values.flatMap { $0 } })
    }
}
