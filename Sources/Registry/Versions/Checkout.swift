import Foundation
import Git
import ModelFormat
import SystemIO
import TensorStore

extension Registry {
    /// Restores the model folder of `reference` into the work tree and index (like
    /// `git checkout <rev> -- models/<m>`, also removing files that version does not have),
    /// or writes it to `destination` when given. Uncommitted changes are never overwritten
    /// without `force`.
    public func checkout(_ reference: String, model hint: String? = nil, to destination: URL?, force: Bool) throws -> (ResolvedVersion, Int)
    {
        let resolved = try resolve(reference, model: hint)
        let content = try content(of: resolved)
        let files = try folderFiles(content.folderTree)
        let reader = tensors.reader()
        try verifyTensors(content, reader: reader)
        if let destination {
            let fileManager = FileManager.default
            if let existing = try? fileManager.contentsOfDirectory(atPath: destination.path), !existing.isEmpty, !force {
                throw MVError("'\(destination.path)' is not empty", hint: "choose an empty folder, or pass --force to write into it")
            }
            // A plain folder: chunked tensors are written as the .npy files they make up.
            let chunked = content.manifest.params.filter { $0.chunkBytes != nil }
            let chunkFolders = chunked.map { $0.chunkFolder + "/" }
            let tensorFiles = Set(content.manifest.params.map(\.file))
            var folderWrite = FolderWrite()
            let written = try folderWrite.undoingOnFailure { folderWrite -> Int in
                var written = 0
                try folderWrite.createFolder(destination)
                for (path, entry) in files where !chunkFolders.contains(where: path.hasPrefix) && path != "params/.gitignore" {
                    let url = destination.appendingPathComponent(path)
                    try folderWrite.prepare(url)
                    if tensorFiles.contains(path) {
                        try reader.write([entry.id], to: url, checked: true)
                    } else {
                        try repository.objects.writeBlob(entry.id, toFileAt: url)
                    }
                    written += 1
                }
                for record in chunked {
                    guard let blobs = content.tensorBlobs[record.name] else { continue }
                    let url = destination.appendingPathComponent(record.file)
                    try folderWrite.prepare(url)
                    try reader.write(blobs, to: url, checked: true)
                    written += 1
                }
                return written
            }
            return (resolved, written)
        }
        guard workingDirectory != nil else { throw MVError("a bare repository has no work tree; use --to <folder>") }
        let folder = folder(of: resolved.model)
        let lock = try lockForWriting()
        defer { withExtendedLifetime(lock) {} }
        // Under the lock, a temporary file in the folder is a dead mv's, --force or not.
        removeTemporaryFiles(under: folder)
        if !force { try ensureReplaceable(resolved.model) }
        let chunkFolders = content.manifest.params.filter { $0.chunkBytes != nil }.map { $0.chunkFolder + "/" }
        let staged = files.map { path, entry in
            var file = StagedFile(path: "\(folder)/\(path)", blob: entry.id, mode: entry.mode, source: nil)
            if chunkFolders.contains(where: path.hasPrefix) { file.placement = .skipWorktree }
            return file
        }
        // The message is only for the journal: a checkout commits nothing.
        var proposal = Proposal(files: staged, replacedFolders: [folder], message: "mv checkout \(resolved.label)", tag: nil)
        proposal.assembled = content.manifest.params.compactMap { record in
            guard record.chunkBytes != nil, let blobs = content.tensorBlobs[record.name] else { return nil }
            return AssembledFile(path: "\(folder)/\(record.file)", chunks: blobs, source: nil)
        }
        try workTree.sync(proposal)
        return (resolved, files.count)
    }

    /// Like `ensureClean`, but a folder that only holds an earlier `mv checkout` (staged,
    /// identical to some version, nothing else changed) may be replaced: that is mv's own
    /// work, not the user's.
    func ensureReplaceable(_ model: ModelName) throws {
        let changes = try changes(under: folder(of: model))
        if try changes.isEmpty || checkedOutVersion(model, changes: changes) != nil { return }
        try ensureClean(model, action: "a checkout would overwrite them")
    }

    /// The version an earlier `mv checkout` put in the model's folder: every change is staged
    /// (none in the work tree, nothing untracked) and the staged folder is that version's.
    /// Nil when the folder holds anything else.
    func checkedOutVersion(_ model: ModelName, changes: [StatusEntry]) throws -> SemanticVersion? {
        guard !changes.isEmpty, changes.allSatisfy({ $0.isStaged && !$0.isChangedInWorkTree && !$0.isUntracked }) else { return nil }
        let folder = folder(of: model)
        guard let staged = try repository.tree(repository.index().writeTree()).entry(atPath: folder)?.id else { return nil }
        for version in try versionNumbers(of: model).reversed() {
            let commit = try repository.resolveCommit(TagNames.version(model, version))
            if try repository.tree(repository.commit(commit).treeID).entry(atPath: folder)?.id == staged { return version }
        }
        return nil
    }

    /// Every file of a version's model folder, as (path inside the folder, blob, mode).
    /// A name that could reach outside the folder (a crafted tree; git and libgit2 never
    /// write one) is refused before anything is written.
    func folderFiles(_ tree: ObjectID, prefix: String = "") throws -> [(String, TreeEntry)] {
        try repository.tree(tree).entries.flatMap { entry -> [(String, TreeEntry)] in
            guard !entry.name.isEmpty, entry.name != ".", entry.name != "..", !entry.name.contains("/"),
                entry.name.lowercased() != ".git"
            else {
                throw MVError(
                    "the version holds a file named '\(prefix + entry.name)', which mv refuses to write",
                    hint: "this history was not written by mv or git; inspect it with 'git ls-tree -r'")
            }
            return entry.isTree ? try folderFiles(entry.id, prefix: prefix + entry.name + "/") : [(prefix + entry.name, entry)]
        }
    }
}
