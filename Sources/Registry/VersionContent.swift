import Crypto
import Foundation
import Git
import Learning
import ModelFormat

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
            throw MVError("\(resolved.label) has no \(folder)/ folder", hint: "was it registered by another tool? try 'gto show \(resolved.model)'")
        }
        guard let manifestEntry = try tree.entry(atPath: "\(folder)/\(Manifest.fileName)") else {
            throw MVError("\(resolved.label) has no \(folder)/\(Manifest.fileName)")
        }
        let manifest: Manifest
        do {
            manifest = try Manifest.parse(String(decoding: try repository.objects.readBlob(manifestEntry.id), as: UTF8.self),
                                          source: "\(resolved.label):\(folder)/\(Manifest.fileName)")
        } catch let error as ModelFormatError {
            throw MVError("\(error)")
        }
        var reports: [(name: String, report: EvaluationReport)] = []
        if let evalEntry = try tree.entry(atPath: "\(folder)/eval"), evalEntry.isTree {
            for entry in try repository.tree(evalEntry.id).entries where entry.name.hasSuffix(".yaml") && !entry.isTree {
                let text = String(decoding: try repository.objects.readBlob(entry.id), as: UTF8.self)
                do {
                    reports.append((String(entry.name.dropLast(5)), try EvaluationReport.parse(text, source: "\(folder)/eval/\(entry.name)")))
                } catch let error as ModelFormatError {
                    throw MVError("\(error)")
                }
            }
        }
        var blobs: [String: [ObjectID]] = [:]
        for record in manifest.params {
            if record.chunkBytes != nil {
                guard let entry = try tree.entry(atPath: "\(folder)/\(record.chunkFolder)"), entry.isTree else {
                    throw MVError("\(resolved.label): tensor '\(record.name)' is stored in chunks but '\(record.chunkFolder)/' is missing")
                }
                let chunks = try repository.tree(entry.id).entries.filter { !$0.isTree }.sorted { $0.name < $1.name }
                guard chunks.map(\.name) == record.chunkNames else {
                    throw MVError("\(resolved.label): '\(record.chunkFolder)/' holds \(chunks.count) chunk files, not the \(record.chunkNames.count) the manifest lists for '\(record.name)'")
                }
                blobs[record.name] = chunks.map(\.id)
                continue
            }
            guard let entry = try tree.entry(atPath: "\(folder)/\(record.file)"), !entry.isTree else {
                throw MVError("\(resolved.label): tensor '\(record.name)' is listed in the manifest but '\(record.file)' is missing")
            }
            blobs[record.name] = [entry.id]
        }
        return VersionContent(resolved: resolved, folderTree: folderEntry.id, manifest: manifest, reports: reports, tensorBlobs: blobs)
    }

    /// A tensor's values, checked against the manifest's sha256 so a tampered file fails
    /// loudly instead of predicting quietly.
    func tensorValues(_ content: VersionContent, _ record: Manifest.TensorRecord) throws -> (NpyHeader, [Double]) {
        guard let blobs = content.tensorBlobs[record.name] else { throw MVError("\(content.resolved.label) has no tensor '\(record.name)'") }
        let data = try blobs.reduce(into: Data()) { $0.append(try repository.objects.readBlob($1)) }
        guard ContentHash.sha256(data) == record.sha256 else {
            throw MVError("tensor '\(record.name)' of \(content.resolved.label) does not match its sha256 in the manifest; the file was altered",
                          hint: "restore it with 'mv checkout \(content.resolved.spelled) --force'")
        }
        do {
            return try Npy.values(from: data, fileName: record.file)
        } catch {
            throw MVError("\(error)")
        }
    }

    /// Rebuilds a built-in model from its stored tensors, ready to predict.
    func loadModel(_ content: VersionContent) throws -> TrainedModel {
        let manifest = content.manifest
        guard manifest.algorithm != "custom" else {
            throw MVError("\(content.resolved.label) was trained by your own command; mv cannot run it",
                          hint: "evaluate it with your own code and register the metrics with a training command")
        }
        let trainer: any Trainer
        do { trainer = try Trainers.named(manifest.algorithm) } catch { throw MVError("\(error)") }
        let parameters = try manifest.params.map { record in
            let (header, values) = try tensorValues(content, record)
            return NamedTensor(name: record.name, shape: header.shape, values: values)
        }
        var hyperparameters: [String: String] = [:]
        if case let .map(pairs) = manifest.hyperparameters {
            for (key, value) in pairs { hyperparameters[key] = value.stringValue }
        }
        let featureCount = manifest.target == nil ? manifest.features.count : try schemas(manifest).0.featureCount
        do {
            return try trainer.load(parameters: parameters, hyperparameters: hyperparameters, featureCount: featureCount)
        } catch {
            throw MVError("\(error)")
        }
    }
}

extension ObjectDatabase {
    /// SHA-256 of a tensor's bytes — one blob, or chunk blobs concatenated — hashed where
    /// libgit2 holds them (no copy into Swift; one chunk in memory at a time).
    func sha256(of blobs: [ObjectID], locator: StoredBlobLocator? = nil) throws -> String {
        var hasher = SHA256()
        for blob in blobs {
            try withContentPieces(blob, locator: locator) { pieces in
                for piece in pieces { hasher.update(bufferPointer: piece) }
            }
        }
        return ContentHash.hex(hasher.finalize())
    }

    /// Calls `body` with the blob's content, in order, in pieces: read straight from its
    /// pack's stored blocks where it is kept that way (no copy, no inflating: libgit2 would
    /// copy it out block by block and check zlib's Adler-32 on the way, ~40% of an export's
    /// time), else from libgit2's buffer. Callers check each tensor's SHA-256, which
    /// catches altered bytes either way.
    func withContentPieces<T>(_ id: ObjectID, locator: StoredBlobLocator?, _ body: ([UnsafeRawBufferPointer]) throws -> T) throws -> T {
        if let stored = locator?.locate(id) {
            return try withExtendedLifetime(stored) { try body(stored.segments.map { stored.bytes($0) }) }
        }
        return try withBlobBytes(id) { try body([$0]) }
    }

    /// Writes a tensor's blobs (or any file's), concatenated, to `url` (replacing it), around
    /// the page cache. With a `locator`, stored blobs are read from their packs directly: only
    /// for tensors whose SHA-256 was just checked (libgit2's read checks zlib's Adler-32).
    func writeTensor(_ blobs: [ObjectID], toFileAt url: URL, verifiedWith locator: StoredBlobLocator? = nil) throws {
        let writer = try DirectFileWriter(creating: url)
        for (position, blob) in blobs.enumerated() {
            if position + 1 < blobs.count { locator?.readAhead(blobs[position + 1]) }
            try withContentPieces(blob, locator: locator) { pieces in
                for piece in pieces { try writer.write(piece) }
            }
        }
        try writer.finish(sync: false)
    }
}
