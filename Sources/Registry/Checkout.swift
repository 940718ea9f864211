import Foundation
import Git
import ModelFormat

/// Export formats of `mv export`.
public enum ExportFormat: String, Sendable, CaseIterable {
    case npy, safetensors
}

extension Registry {
    /// Every file of a version's model folder, as (path inside the folder, blob, mode).
    func folderFiles(_ tree: ObjectID, prefix: String = "") throws -> [(String, TreeEntry)] {
        try repository.tree(tree).entries.flatMap { entry -> [(String, TreeEntry)] in
            entry.isTree ? try folderFiles(entry.id, prefix: prefix + entry.name + "/") : [(prefix + entry.name, entry)]
        }
    }

    /// Restores the model folder of `reference` into the work tree and index (like
    /// `git checkout <rev> -- models/<m>`, also removing files that version does not have),
    /// or writes it to `destination` when given. Uncommitted changes are never overwritten
    /// without `force`.
    public func checkout(_ reference: String, model hint: String? = nil, to destination: URL?, force: Bool) throws -> (ResolvedVersion, Int) {
        let resolved = try resolve(reference, model: hint)
        let content = try content(of: resolved)
        let files = try folderFiles(content.folderTree)
        try verifyTensors(content)
        if let destination {
            let fileManager = FileManager.default
            if let existing = try? fileManager.contentsOfDirectory(atPath: destination.path), !existing.isEmpty, !force {
                throw MVError("'\(destination.path)' is not empty", hint: "choose an empty folder, or pass --force to write into it")
            }
            for (path, entry) in files {
                let url = destination.appendingPathComponent(path)
                try fileManager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try repository.objects.writeBlob(entry.id, toFileAt: url)
            }
            return (resolved, files.count)
        }
        guard workingDirectory != nil else { throw MVError("a bare repository has no work tree; use --to <folder>") }
        let folder = folder(of: resolved.model)
        let lock = try writer.lock()
        defer { withExtendedLifetime(lock) {} }
        if !force { try ensureReplaceable(resolved.model) }
        let staged = files.map { StagedFile(path: "\(folder)/\($0.0)", blob: $0.1.id, mode: $0.1.mode, source: nil) }
        try writer.syncWorkTree(Proposal(files: staged, replacedFolders: [folder], message: "", tag: nil))
        return (resolved, files.count)
    }

    /// Writes a version's parameters: one `.npy` per tensor into a folder, or one
    /// `.safetensors` file.
    public func export(_ reference: String, model hint: String? = nil, format: ExportFormat, to output: URL, force: Bool) throws -> (ResolvedVersion, Int) {
        let resolved = try resolve(reference, model: hint)
        let content = try content(of: resolved)
        try verifyTensors(content)
        let fileManager = FileManager.default
        switch format {
        case .npy:
            if let existing = try? fileManager.contentsOfDirectory(atPath: output.path), !existing.isEmpty, !force {
                throw MVError("'\(output.path)' is not empty", hint: "choose an empty folder, or pass --force")
            }
            try fileManager.createDirectory(at: output, withIntermediateDirectories: true)
            for record in content.manifest.params {
                guard let blob = content.tensorBlobs[record.name] else { continue }
                try repository.objects.writeBlob(blob, toFileAt: output.appendingPathComponent("\(record.name).npy"))
            }
        case .safetensors:
            if fileManager.fileExists(atPath: output.path), !force {
                throw MVError("'\(output.path)' exists", hint: "choose another path, or pass --force to replace it")
            }
            let staging = try makeStagingFolder()
            defer { try? fileManager.removeItem(at: staging) }
            var tensors: [(name: String, npyFile: URL)] = []
            for record in content.manifest.params {
                guard let blob = content.tensorBlobs[record.name] else { continue }
                let url = staging.appendingPathComponent("\(tensors.count).npy")
                try repository.objects.writeBlob(blob, toFileAt: url)
                tensors.append((record.name, url))
            }
            do {
                try SafetensorsWriter.write(tensors: tensors, metadata: ["format": "pt", "mv_model": resolved.model.value,
                                                                        "mv_version": content.manifest.version], to: output)
            } catch {
                throw MVError("\(error)")
            }
        }
        return (resolved, content.manifest.params.count)
    }

    /// Like `ensureClean`, but a folder that only holds an earlier `mv checkout` (staged,
    /// identical to some version, nothing else changed) may be replaced: that is mv's own
    /// work, not the user's.
    func ensureReplaceable(_ model: ModelName) throws {
        let folder = folder(of: model)
        let changes = try repository.status(under: folder)
        if changes.isEmpty { return }
        if changes.allSatisfy({ $0.isStaged && !$0.isChangedInWorkTree && !$0.isUntracked }) {
            let index = try repository.index()
            let staged = try repository.tree(index.writeTree()).entry(atPath: folder)?.id
            let versionTrees = try versionNumbers(of: model).compactMap { version -> ObjectID? in
                let commit = try repository.resolveCommit(TagNames.version(model, version))
                return try repository.tree(repository.commit(commit).treeID).entry(atPath: folder)?.id
            }
            if let staged, versionTrees.contains(staged) { return }
        }
        try ensureClean(model, action: "a checkout would overwrite them")
    }

    /// Re-hashes every tensor blob against the manifest.
    func verifyTensors(_ content: VersionContent) throws {
        for record in content.manifest.params {
            guard let blob = content.tensorBlobs[record.name] else { continue }
            let data = try repository.objects.readBlob(blob)
            guard ContentHash.sha256(data) == record.sha256 else {
                throw MVError("tensor '\(record.name)' of \(content.resolved.label) does not match its sha256 in the manifest; the stored file was altered")
            }
        }
    }
}
