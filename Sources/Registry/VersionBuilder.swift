import Foundation
import Git
import ModelFormat

/// A parameter tensor prepared for commit: its manifest record, its stored blob (or chunk
/// blobs), and for a chunked tensor the work-tree file assembled from them.
struct StagedTensor {
    let record: Manifest.TensorRecord
    let files: [StagedFile]
    var assembled: AssembledFile?
}

/// What the manifest records of one .npy file: layout, statistics, content hash, size.
/// Pure file reading, so many are computed in parallel.
struct TensorSummary: Sendable {
    let header: NpyHeader
    let statistics: TensorStatistics
    let sha256: String
    let size: Int

    init(npyFile: URL, dtype logical: DType?) throws {
        do {
            (header, statistics) = try TensorStatistics.compute(npyFileAt: npyFile, as: logical)
            sha256 = try ContentHash.sha256(fileAt: npyFile)
        } catch {
            throw MVError("\(error)")
        }
        size = (try? FileManager.default.attributesOfItem(atPath: npyFile.path)[.size] as? Int) ?? 0
    }

    /// Summaries of `files` on every core, in order; the first failure is thrown.
    static func all(_ files: [(url: URL, dtype: DType?)]) throws -> [TensorSummary] {
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var values: [Int: Result<TensorSummary, Error>] = [:]
        }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            let result = Result { try TensorSummary(npyFile: files[index].url, dtype: files[index].dtype) }
            results.lock.lock()
            results.values[index] = result
            results.lock.unlock()
        }
        return try (0..<files.count).map { index in
            guard let result = results.values[index] else { throw MVError("internal error: tensor \(index) was not summarised") }
            return try result.get()
        }
    }
}

/// Everything about a new version except its number, which is only known at publish time
/// (it is allocated under compare-and-swap and may change after a lost race).
struct VersionDraft {
    var model: ModelName
    var manifest: Manifest
    var tensors: [StagedTensor]
    var reports: [(name: String, report: EvaluationReport)]
    var headline: [(name: String, value: Double)]
    var body: String
    /// Other files of the folder (e.g. an imported safetensors header).
    var extraFiles: [StagedFile] = []
}

/// Turns drafts into committed, tagged versions.
extension Registry {
    /// Validates an .npy file, hashes it, summarises it and stores it as a blob.
    /// `file` is the file name under params/ (default `<name>.npy`); `dtype` the real element
    /// type when the .npy holds it as another (bfloat16 as uint16).
    /// `blob` is the id when the file was already stored (in a batch); `owned` marks a file
    /// mv made itself, which the work-tree sync may move instead of copy.
    func stageTensor(name: String, npyFile: URL, folder: String, file: String? = nil, dtype logical: DType? = nil,
                     blob stored: ObjectID? = nil, owned: Bool = false, summary known: TensorSummary? = nil) throws -> StagedTensor {
        let summary = try known ?? TensorSummary(npyFile: npyFile, dtype: logical)
        let relative = "params/\(file ?? name + ".npy")"
        let blob = try stored ?? repository.objects.writeBlob(fileAt: npyFile)
        let statistics = summary.statistics
        let record = Manifest.TensorRecord(
            name: name, file: relative, dtype: (logical ?? summary.header.dtype).rawValue, shape: summary.header.shape, bytes: summary.size,
            sha256: summary.sha256, min: statistics.min, max: statistics.max,
            mean: statistics.mean, std: statistics.std, l2Norm: statistics.l2Norm)
        return StagedTensor(record: record, files: [StagedFile(path: "\(folder)/\(relative)", blob: blob, source: npyFile, ownsSource: owned)])
    }

    /// Existing version numbers of `model`, from its version tags.
    func versionNumbers(of model: ModelName) throws -> Set<SemanticVersion> {
        Set(try repository.referenceNames(matching: TagNames.versionGlob(model)).compactMap {
            TagNames.parseVersion(ref: $0).flatMap { $0.model == model ? $0.version : nil }
        })
    }

    /// The version the next `mv train` would get if nothing else lands first.
    func nextVersion(of model: ModelName) throws -> SemanticVersion {
        SemanticVersion(major: (try versionNumbers(of: model).map(\.major).max() ?? 0) + 1)
    }

    /// Commits the draft as a new version with its annotated version tag, and brings the
    /// model folder in the work tree and index up to date.
    func commitVersion(_ draft: VersionDraft, explicitVersion: SemanticVersion?, force: Bool,
                       staging: URL, reflogPrefix: String) throws -> (SemanticVersion, Published) {
        let model = draft.model
        let folder = folder(of: model)
        let signature = try repository.defaultSignature()
        let lock = try writer.lock()
        defer { withExtendedLifetime(lock) {} }
        if !force { try ensureClean(model) }
        PhaseTrace.mark("commit: locked, clean")

        var chosen = SemanticVersion(major: 0)
        let published = try writer.publish(signature: signature, reflogPrefix: reflogPrefix) { _ in
            let existing = try versionNumbers(of: model)
            let version: SemanticVersion
            if let explicitVersion {
                guard !existing.contains(explicitVersion) else {
                    throw MVError("version \(explicitVersion) of '\(model)' already exists",
                                  hint: "pick another with --version, or omit it to get \(SemanticVersion(major: (existing.map(\.major).max() ?? 0) + 1))")
                }
                version = explicitVersion
            } else {
                version = SemanticVersion(major: (existing.map(\.major).max() ?? 0) + 1)
            }
            chosen = version
            return try self.proposal(for: draft, version: version, folder: folder, staging: staging)
        }
        PhaseTrace.mark("commit: published")
        try writer.syncWorkTree(published.proposal)
        PhaseTrace.mark("commit: work tree")
        return (chosen, published)
    }

    private func proposal(for draft: VersionDraft, version: SemanticVersion, folder: String, staging: URL) throws -> Proposal {
        var manifest = draft.manifest
        manifest.version = version.description
        manifest.params = draft.tensors.map(\.record)
        var files = draft.tensors.flatMap(\.files) + draft.extraFiles
        let assembled = draft.tensors.compactMap(\.assembled)
        if !assembled.isEmpty {
            // The assembled files are work-tree copies of chunks Git already has.
            let names = draft.tensors.filter { $0.assembled != nil }.map { "/" + ($0.record.file.split(separator: "/").last.map(String.init) ?? $0.record.file) }
            let text = "# Tensors stored in chunks (see <name>.chunks/); mv assembles these files for numpy.load.\n"
                + names.joined(separator: "\n") + "\n"
            files.append(try stageText(text, path: "\(folder)/params/.gitignore", staging: staging))
        }
        var reports: [(name: String, report: EvaluationReport)] = []
        for (name, report) in draft.reports {
            var report = report
            report.version = version.description
            reports.append((name, report))
            files.append(try stageText(report.yaml(), path: "\(folder)/eval/\(name).yaml", staging: staging))
        }
        files.append(try stageText(manifest.yaml(), path: "\(folder)/\(Manifest.fileName)", staging: staging))
        files.append(try stageText(ModelCard.markdown(manifest: manifest, reports: reports), path: "\(folder)/\(ModelCard.fileName)", staging: staging))

        let model = draft.model
        let headlineText = draft.headline.map { "\($0.name) \(Self.formatMetric($0.value))" }.joined(separator: ", ")
        let summary = "\(model) \(version)" + (headlineText.isEmpty ? "" : ": \(headlineText)") + " (\(manifest.algorithm))"
        var trailers = ["Model: \(model)", "Model-Version: \(version)"]
        trailers += draft.headline.map { "Metric-\($0.name): \(YAMLValue.format($0.value))" }
        let message = summary + "\n\n" + draft.body + "\n\n" + trailers.joined(separator: "\n") + "\n"
        let tagMessage = "\(model) \(version)\n\n" + trailers.joined(separator: "\n") + "\n"
        var proposal = Proposal(files: files, replacedFolders: [folder], message: message,
                                tag: (TagNames.version(model, version), tagMessage))
        proposal.assembled = assembled
        return proposal
    }

    private func stageText(_ text: String, path: String, staging: URL) throws -> StagedFile {
        let url = staging.appendingPathComponent("text-\(UUID().uuidString)")
        try Data(text.utf8).writeUnsynced(to: url)
        return StagedFile(path: path, blob: try repository.objects.writeBlob(fileAt: url), source: url)
    }

    static func formatMetric(_ value: Double) -> String { String(format: "%.4g", value) }
}
