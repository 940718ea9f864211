import Crypto
import Foundation
import Git
import ModelFormat

/// Export formats of `mv export`.
public enum ExportFormat: String, Sendable, CaseIterable {
    case npy, safetensors
}

extension Registry {
    /// Every file of a version's model folder, as (path inside the folder, blob, mode).
    /// A name that could reach outside the folder (a crafted tree; git and libgit2 never
    /// write one) is refused before anything is written.
    func folderFiles(_ tree: ObjectID, prefix: String = "") throws -> [(String, TreeEntry)] {
        try repository.tree(tree).entries.flatMap { entry -> [(String, TreeEntry)] in
            guard !entry.name.isEmpty, entry.name != ".", entry.name != "..", !entry.name.contains("/"),
                  entry.name.lowercased() != ".git" else {
                throw MVError("the version holds a file named '\(prefix + entry.name)', which mv refuses to write",
                              hint: "this history was not written by mv or git; inspect it with 'git ls-tree -r'")
            }
            return entry.isTree ? try folderFiles(entry.id, prefix: prefix + entry.name + "/") : [(prefix + entry.name, entry)]
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
        let locator = try verifyTensors(content)
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
                        try repository.objects.writeTensor([entry.id], toFileAt: url, verifiedWith: locator)
                    } else {
                        try repository.objects.writeBlob(entry.id, toFileAt: url)
                    }
                    written += 1
                }
                for record in chunked {
                    guard let blobs = content.tensorBlobs[record.name] else { continue }
                    let url = destination.appendingPathComponent(record.file)
                    try folderWrite.prepare(url)
                    try repository.objects.writeTensor(blobs, toFileAt: url, verifiedWith: locator)
                    written += 1
                }
                return written
            }
            return (resolved, written)
        }
        guard workingDirectory != nil else { throw MVError("a bare repository has no work tree; use --to <folder>") }
        let folder = folder(of: resolved.model)
        let lock = try writer.lock()
        defer { withExtendedLifetime(lock) {} }
        if !force { try ensureReplaceable(resolved.model) }
        let chunkFolders = content.manifest.params.filter { $0.chunkBytes != nil }.map { $0.chunkFolder + "/" }
        let staged = files.map { path, entry in
            var file = StagedFile(path: "\(folder)/\(path)", blob: entry.id, mode: entry.mode, source: nil)
            if chunkFolders.contains(where: path.hasPrefix) { file.placement = .skipWorktree }
            return file
        }
        var proposal = Proposal(files: staged, replacedFolders: [folder], message: "", tag: nil)
        proposal.assembled = content.manifest.params.compactMap { record in
            guard record.chunkBytes != nil, let blobs = content.tensorBlobs[record.name] else { return nil }
            return AssembledFile(path: "\(folder)/\(record.file)", chunks: blobs, source: nil)
        }
        try writer.syncWorkTree(proposal)
        return (resolved, files.count)
    }

    /// Writes a version's parameters: one `.npy` per tensor into a folder, or one
    /// `.safetensors` file.
    public func export(_ reference: String, model hint: String? = nil, format: ExportFormat, to output: URL, force: Bool) throws -> (ResolvedVersion, Int) {
        let resolved = try resolve(reference, model: hint)
        let content = try content(of: resolved)
        let fileManager = FileManager.default
        switch format {
        case .safetensors:
            if fileManager.fileExists(atPath: output.path), !force {
                throw MVError("'\(output.path)' exists", hint: "choose another path, or pass --force to replace it")
            }
            try streamSafetensors(content, try originalLayout(content) ?? freshLayout(content), to: output)
        case .npy:
            if let existing = try? fileManager.contentsOfDirectory(atPath: output.path), !existing.isEmpty, !force {
                throw MVError("'\(output.path)' is not empty", hint: "choose an empty folder, or pass --force")
            }
            let locator = try verifyTensors(content)
            let total = Int64(content.manifest.params.map(\.bytes).reduce(0, +))
            var done: Int64 = 0
            var folderWrite = FolderWrite()
            var taken = Set<String>()
            try folderWrite.undoingOnFailure { folderWrite in
                try folderWrite.createFolder(output)
                for record in content.manifest.params {
                    guard let blobs = content.tensorBlobs[record.name] else { continue }
                    let url = output.appendingPathComponent(Self.exportFileName(record, taken: &taken))
                    try folderWrite.prepare(url)
                    try repository.objects.writeTensor(blobs, toFileAt: url, verifiedWith: locator)
                    done += Int64(record.bytes)
                    progress?(done, total, "exporting")
                }
            }
        }
        return (resolved, content.manifest.params.count)
    }

    /// The file an exported tensor gets: its name in the version's params/ folder, which mv
    /// made safe when it stored the tensor; a name from a manifest edited by hand is made safe
    /// here. A tensor named '../../x' must not write outside the export folder.
    static func exportFileName(_ record: Manifest.TensorRecord, taken: inout Set<String>) -> String {
        let name = URL(fileURLWithPath: record.file).lastPathComponent
        if record.file == "params/\(name)", name.hasSuffix(".npy"), !name.hasPrefix("."), !name.contains("\\"),
           taken.insert(name.lowercased()).inserted {
            return name
        }
        return tensorFileName(record.name, taken: &taken)
    }

    /// The stored header and the tensors in the order of their bytes, when the version holds
    /// exactly the tensors of the safetensors file it was imported from.
    private func originalLayout(_ content: VersionContent) throws -> (header: Data, order: [Manifest.TensorRecord], sha256: String?)? {
        guard let source = content.manifest.source, source["format"]?.stringValue == "safetensors",
              let headerFile = source["header"]?.stringValue, case let .list(order)? = source["data_order"] else { return nil }
        let names = order.compactMap(\.stringValue)
        let records = Dictionary(content.manifest.params.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        guard Set(names) == Set(records.keys), names.count == records.count,
              let entry = try repository.tree(content.folderTree).entry(atPath: headerFile) else { return nil }
        return (try repository.objects.readBlob(entry.id), names.compactMap { records[$0] }, source["sha256"]?.stringValue)
    }

    /// Not imported from one safetensors file: a fresh header, laid out as the reference
    /// writer does (`safetensors.numpy.save_file` writes the same bytes), naming the version.
    private func freshLayout(_ content: VersionContent) throws -> (header: Data, order: [Manifest.TensorRecord], sha256: String?) {
        let records = Dictionary(content.manifest.params.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let described = try content.manifest.params.map { record -> (name: String, dtype: DType, shape: [Int]) in
            guard let dtype = DType(rawValue: record.dtype) else {
                throw MVError("tensor '\(record.name)' of \(content.resolved.label) has an unknown dtype '\(record.dtype)' in its manifest")
            }
            return (record.name, dtype, record.shape)
        }
        do {
            let layout = try SafetensorsWriter.layout(described, metadata: ["format": "pt", "mv_model": content.resolved.model.value,
                                                                          "mv_version": content.manifest.version],
                                                      fileName: content.resolved.label)
            return (layout.header, layout.order.compactMap { records[$0] }, nil)
        } catch {
            throw MVError("\(error)")
        }
    }

    /// Writes a safetensors file straight from the blobs — header, then each tensor's bytes
    /// after its .npy header — checking every tensor's SHA-256 (and that its .npy holds the
    /// shape the header announces) on the way, one blob in memory at a time. Nothing appears
    /// at `output` unless every check passed.
    private func streamSafetensors(_ content: VersionContent, _ original: (header: Data, order: [Manifest.TensorRecord], sha256: String?),
                                   to output: URL) throws {
        let fileManager = FileManager.default
        let temporary = output.deletingLastPathComponent().appendingPathComponent(".\(output.lastPathComponent).mv-\(UUID().uuidString)")
        // The whole file's SHA-256 (to prove it equals the file imported) is computed by the
        // writer's own thread as the bytes go out, beside each tensor's on this one.
        let fileHasher = original.sha256 == nil ? nil : StreamHasher()
        var observe: (@Sendable (UnsafeRawBufferPointer) -> Void)?
        if let fileHasher { observe = { fileHasher.update($0) } }
        let writer: DirectFileWriter
        do {
            writer = try DirectFileWriter(creating: temporary, observe: observe)
        } catch {
            throw MVError("cannot write '\(output.path)'", hint: "check that its folder exists and is writable")
        }
        var moved = false
        defer {
            if !moved { try? fileManager.removeItem(at: temporary) }
        }
        let total = Int64(original.order.map(\.bytes).reduce(0, +))
        var done: Int64 = 0
        func write(_ bytes: UnsafeRawBufferPointer) throws { try writer.write(bytes) }
        let locator = try? StoredBlobLocator(repository.objects)
        var prefix = Data()
        for i in 0..<8 { prefix.append(UInt8(truncatingIfNeeded: UInt64(original.header.count) >> (8 * UInt64(i)))) }
        prefix.append(original.header)
        try prefix.withUnsafeBytes { try write($0) }
        for record in original.order {
            guard let blobs = content.tensorBlobs[record.name] else { throw MVError("\(content.resolved.label) has no tensor '\(record.name)'") }
            var hasher = SHA256()
            var skip: Int?
            for (position, blob) in blobs.enumerated() {
                if position + 1 < blobs.count { locator?.readAhead(blobs[position + 1]) }
                try repository.objects.withContentPieces(blob, locator: locator) { pieces in
                    if skip == nil {
                        // The .npy header lies in the first bytes, whatever the pieces' sizes.
                        var head = Data()
                        for piece in pieces where head.count < 1 << 16 { head.append(contentsOf: piece.prefix((1 << 16) - head.count)) }
                        let header: NpyHeader
                        do {
                            header = try NpyHeader.parse(prefix: head, fileName: record.file, fileSize: nil)
                        } catch {
                            throw MVError("tensor '\(record.name)' of \(content.resolved.label) is not a valid .npy: \(error)")
                        }
                        guard header.shape == record.shape, header.headerLength + header.dataLength == record.bytes else {
                            throw MVError("tensor '\(record.name)' of \(content.resolved.label) does not hold the shape its manifest lists; nothing was written")
                        }
                        skip = header.headerLength
                    }
                    for bytes in pieces {
                        hasher.update(bufferPointer: bytes)
                        let start = min(skip ?? 0, bytes.count)
                        try write(UnsafeRawBufferPointer(rebasing: bytes[start...]))
                        skip = (skip ?? 0) - start
                    }
                }
            }
            guard ContentHash.hex(hasher.finalize()) == record.sha256 else {
                throw MVError("tensor '\(record.name)' of \(content.resolved.label) does not match its sha256 in the manifest; the stored file was altered; nothing was written")
            }
            done += Int64(record.bytes)
            progress?(done, total, "exporting")
        }
        try writer.finish(sync: true)
        if let expected = original.sha256, let fileHasher, fileHasher.hex() != expected {
            throw MVError("the safetensors file rebuilt for \(content.resolved.label) does not match the sha256 of the file imported; nothing was written")
        }
        if fileManager.fileExists(atPath: output.path) { try fileManager.removeItem(at: output) }
        try fileManager.moveItem(at: temporary, to: output)
        moved = true
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

    /// `mv verify`: re-hashes every tensor of a version from Git objects; returns each
    /// tensor's name and whether its sha256 matches the manifest.
    public func verify(_ reference: String, model hint: String? = nil) throws -> (ResolvedVersion, [(tensor: String, file: String, ok: Bool)]) {
        let resolved = try resolve(reference, model: hint)
        let content = try content(of: resolved)
        let digests = try tensorDigests(content, locator: try? StoredBlobLocator(repository.objects))
        let results = zip(content.manifest.params, digests).map { record, digest in
            (tensor: record.name, file: record.file, ok: digest == record.sha256)
        }
        VerifiedTensors.remember(zip(content.manifest.params, digests).compactMap { record, digest in
            guard digest == record.sha256, let blobs = content.tensorBlobs[record.name] else { return nil }
            return (record.sha256, blobs)
        }, gitDirectory: repository.gitDirectory)
        return (resolved, results)
    }

    /// Each tensor's SHA-256 recomputed from its blobs (nil for one the version lacks).
    /// Tensors whose blobs all lie in packs as stored blocks are hashed on every core, read
    /// straight from the packs; the others one after another through libgit2, whose objects
    /// are not shared between threads here.
    func tensorDigests(_ content: VersionContent, locator: StoredBlobLocator?) throws -> [String?] {
        let tensors = content.manifest.params.map { content.tensorBlobs[$0.name] }
        final class Digests: @unchecked Sendable {
            let lock = NSLock()
            var values: [String?]
            init(_ count: Int) { values = Array(repeating: nil, count: count) }
        }
        let digests = Digests(tensors.count)
        if let locator {
            DispatchQueue.concurrentPerform(iterations: tensors.count) { index in
                guard let blobs = tensors[index] else { return }
                // The tensor after the one the other core is on, so the disk keeps reading.
                if index + 2 < tensors.count, let next = tensors[index + 2]?.first { locator.readAhead(next) }
                var hasher = SHA256()
                for (position, blob) in blobs.enumerated() {
                    if position + 1 < blobs.count { locator.readAhead(blobs[position + 1]) }
                    // One not stored that way: left for libgit2 below.
                    guard let stored = locator.locate(blob) else { return }
                    withExtendedLifetime(stored) {
                        for segment in stored.segments { hasher.update(bufferPointer: stored.bytes(segment)) }
                    }
                }
                let digest = ContentHash.hex(hasher.finalize())
                digests.lock.lock()
                digests.values[index] = digest
                digests.lock.unlock()
            }
        }
        var values = digests.values
        for (index, blobs) in tensors.enumerated() where values[index] == nil {
            if let blobs { values[index] = try repository.objects.sha256(of: blobs) }
        }
        return values
    }

    /// Re-hashes every tensor blob against the manifest; returns the locator that read them,
    /// for writing the same blobs out.
    @discardableResult
    func verifyTensors(_ content: VersionContent) throws -> StoredBlobLocator? {
        let locator = try? StoredBlobLocator(repository.objects)
        var agreeing: [(sha256: String, blobs: [ObjectID])] = []
        for (record, digest) in zip(content.manifest.params, try tensorDigests(content, locator: locator)) {
            guard let blobs = content.tensorBlobs[record.name] else { continue }
            guard digest == record.sha256 else {
                throw MVError("tensor '\(record.name)' of \(content.resolved.label) does not match its sha256 in the manifest; the stored file was altered")
            }
            agreeing.append((record.sha256, blobs))
        }
        VerifiedTensors.remember(agreeing, gitDirectory: repository.gitDirectory)
        return locator
    }
}
