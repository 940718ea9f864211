import Foundation
import Git
import Learning
import ModelFormat
import TensorStore

/// A version's model folder read straight from Git objects (never the work tree).
public struct VersionContent: Sendable {
    public let resolved: ResolvedVersion
    public let folderTree: ObjectID
    public let manifest: Manifest
    public let reports: [(name: String, report: EvaluationReport)]
    /// Blob of each tensor file, or its chunk blobs in order, by tensor name.
    public let tensorBlobs: [String: [ObjectID]]
}

extension Registry {
    /// `rootTree` reads the folder from a tree instead of the version's commit (the index
    /// being committed, for the pre-commit hook).
    public func content(of resolved: ResolvedVersion, rootTree: ObjectID? = nil) throws -> VersionContent {
        let folder = folder(of: resolved.model)
        let tree = try repository.tree(rootTree ?? repository.commit(resolved.commit).treeID)
        guard let folderEntry = try tree.entry(atPath: folder), folderEntry.isTree else {
            throw MVError(
                "\(resolved.label) has no \(folder)/ folder", hint: "was it registered by another tool? try 'gto show \(resolved.model)'")
        }
        guard let manifestEntry = try tree.entry(atPath: "\(folder)/\(Manifest.fileName)") else {
            throw MVError("\(resolved.label) has no \(folder)/\(Manifest.fileName)")
        }
        let manifest: Manifest
        do {
            manifest = try Manifest.parse(
                String(decoding: try repository.objects.readBlob(manifestEntry.id), as: UTF8.self),
                source: "\(resolved.label):\(folder)/\(Manifest.fileName)")
        } catch let error as ModelFormatError {
            throw MVError("\(error)")
        }
        var reports: [(name: String, report: EvaluationReport)] = []
        if let evalEntry = try tree.entry(atPath: "\(folder)/eval"), evalEntry.isTree {
            for entry in try repository.tree(evalEntry.id).entries where entry.name.hasSuffix(".yaml") && !entry.isTree {
                let text = String(decoding: try repository.objects.readBlob(entry.id), as: UTF8.self)
                do {
                    reports.append(
                        (String(entry.name.dropLast(5)), try EvaluationReport.parse(text, source: "\(folder)/eval/\(entry.name)")))
                } catch let error as ModelFormatError {
                    throw MVError("\(error)")
                }
            }
        }
        // Each folder's tree is read once: a tree of a few hundred tensors is larger than
        // libgit2's object cache takes, so looking every tensor up by its full path would read
        // (and inflate) the params/ tree again for each one.
        let folderTree = try repository.tree(folderEntry.id)
        var folders: [String: Tree] = ["": folderTree]
        func entry(_ relative: String) throws -> TreeEntry? {
            let parts = relative.split(separator: "/", omittingEmptySubsequences: false)
            guard let name = parts.last, !name.isEmpty else { return nil }
            let directory = parts.dropLast().joined(separator: "/")
            if folders[directory] == nil {
                guard let found = try folderTree.entry(atPath: directory), found.isTree else { return nil }
                folders[directory] = try repository.tree(found.id)
            }
            return try folders[directory]?.entry(atPath: String(name))
        }
        var blobs: [String: [ObjectID]] = [:]
        for record in manifest.params {
            if record.chunkBytes != nil {
                guard let entry = try entry(record.chunkFolder), entry.isTree else {
                    throw MVError("\(resolved.label): tensor '\(record.name)' is stored in chunks but '\(record.chunkFolder)/' is missing")
                }
                let chunks = try repository.tree(entry.id).entries.filter { !$0.isTree }.sorted { $0.name < $1.name }
                guard chunks.map(\.name) == record.chunkNames else {
                    throw MVError(
                        "\(resolved.label): '\(record.chunkFolder)/' holds \(chunks.count) chunk files, not the \(record.chunkNames.count) the manifest lists for '\(record.name)'"
                    )
                }
                blobs[record.name] = chunks.map(\.id)
                continue
            }
            guard let entry = try entry(record.file), !entry.isTree else {
                throw MVError("\(resolved.label): tensor '\(record.name)' is listed in the manifest but '\(record.file)' is missing")
            }
            blobs[record.name] = [entry.id]
        }
        return VersionContent(resolved: resolved, folderTree: folderEntry.id, manifest: manifest, reports: reports, tensorBlobs: blobs)
    }
}
