import Foundation
import Git
import ModelFormat
import SystemIO
import TensorStore

/// A parameter tensor prepared for commit: its manifest record, its stored blob (or chunk
/// blobs), and for a chunked tensor the work-tree file assembled from them.
struct StagedTensor {
    let record: Manifest.TensorRecord
    let files: [StagedFile]
    var assembled: AssembledFile?
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
    /// A small .npy file mv wrote itself (a built-in trainer's parameter), validated,
    /// summarised and stored; the work tree may take the file by rename.
    func stageTensor(name: String, npyFile: URL, folder: String) throws -> StagedTensor {
        let (record, blob) = try tensors.storeFile(npyFile, name: name, file: nil, dtype: nil)
        return StagedTensor(
            record: record, files: [StagedFile(path: "\(folder)/\(record.file)", blob: blob, source: npyFile, ownsSource: true)])
    }

    /// Existing version numbers of `model`, from its version tags.
    func versionNumbers(of model: ModelName) throws -> Set<SemanticVersion> {
        Set(
            try repository.referenceNames(matching: TagNames.versionGlob(model)).compactMap {
                TagNames.parseVersion(ref: $0).flatMap { $0.model == model ? $0.version : nil }
            })
    }

    /// The version the next `mv train` would get if nothing else lands first.
    func nextVersion(of model: ModelName) throws -> SemanticVersion {
        try SemanticVersion.nextMajor(after: versionNumbers(of: model))
    }

    /// Commits the draft as a new version (see `commitVersion`) and says what landed.
    func land(
        _ draft: VersionDraft, explicitVersion: SemanticVersion?, force: Bool, staging: URL, reflogPrefix: String,
        metrics: [(name: String, value: Double)], rows: (train: Int, test: Int)
    ) throws -> TrainResult {
        let (version, published) = try commitVersion(
            draft, explicitVersion: explicitVersion, force: force, staging: staging, reflogPrefix: reflogPrefix)
        return TrainResult(
            model: draft.model.value, version: version.description, commit: published.commit.description,
            tag: TagNames.version(draft.model, version), branch: published.branch, metrics: metrics,
            trainRows: rows.train, testRows: rows.test)
    }

    /// Commits the draft as a new version with its annotated version tag, and brings the
    /// model folder in the work tree and index up to date.
    func commitVersion(
        _ draft: VersionDraft, explicitVersion: SemanticVersion?, force: Bool,
        staging: URL, reflogPrefix: String
    ) throws -> (SemanticVersion, Published) {
        let model = draft.model
        let folder = folder(of: model)
        let signature = try repository.defaultSignature()
        let lock = try lockForWriting()
        defer { withExtendedLifetime(lock) {} }
        if !force { try ensureClean(model) } else { removeTemporaryFiles(under: folder) }
        PhaseTrace.mark("commit: locked, clean")

        var chosen = SemanticVersion(major: 0)
        let published = try writer.publish(signature: signature, reflogPrefix: reflogPrefix) { _ in
            let existing = try versionNumbers(of: model)
            let version: SemanticVersion
            if let explicitVersion {
                guard !existing.contains(explicitVersion) else {
                    throw MVError(
                        "version \(explicitVersion) of '\(model)' already exists",
                        hint:
                            "pick another with --version, or omit it to get \((try? SemanticVersion.nextMajor(after: existing))?.description ?? "the next")"
                    )
                }
                version = explicitVersion
            } else {
                version = try SemanticVersion.nextMajor(after: existing)
            }
            chosen = version
            return try self.proposal(for: draft, version: version, folder: folder, staging: staging)
        }
        PhaseTrace.mark("commit: published")
        tensors.published()
        warnIfDetached(published)
        try workTree.sync(published.proposal)
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
            let names = draft.tensors.filter { $0.assembled != nil }.map {
                "/" + ($0.record.file.split(separator: "/").last.map(String.init) ?? $0.record.file)
            }
            let text =
                "# Tensors stored in chunks (see <name>.chunks/); mv assembles these files for numpy.load.\n"
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
        files.append(
            try stageText(
                ModelCard.markdown(manifest: manifest, reports: reports), path: "\(folder)/\(ModelCard.fileName)", staging: staging))

        let model = draft.model
        let headlineText = draft.headline.map { "\($0.name) \(Self.formatMetric($0.value))" }.joined(separator: ", ")
        let summary = "\(model) \(version)" + (headlineText.isEmpty ? "" : ": \(headlineText)") + " (\(manifest.algorithm))"
        var trailers = Trailers()
        trailers.append("Model", model.value)
        trailers.append("Model-Version", version.description)
        trailers.append(metrics: draft.headline)
        let message = summary + "\n\n" + draft.body + "\n\n" + trailers.text
        let tagMessage = "\(model) \(version)\n\n" + trailers.text
        var proposal = Proposal(
            files: files, replacedFolders: [folder], message: message,
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
