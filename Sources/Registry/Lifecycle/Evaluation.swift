import Foundation
import Git
import Learning
import ModelFormat

/// What `mv eval` needs.
public struct EvalRequest: Sendable {
    public var reference: String
    public var model: String?
    public var data: URL
    /// Report name: `eval/<name>.yaml`; defaults to the data file's name without extension.
    public var name: String?
    public var force = false
    /// Treat categories never seen in training as all-zero instead of refusing them.
    public var ignoreUnknownCategories = false

    public init(reference: String, data: URL) {
        self.reference = reference
        self.data = data
    }
}

/// An evaluation that landed.
public struct EvalResult: Sendable {
    public let model: String
    public let version: String
    public let name: String
    public let metrics: [(name: String, value: Double)]
    public let rows: Int
    public let commit: String
    public let tag: String
    public let reportPath: String
}

extension Registry {
    /// Predicts with the version's parameters read from Git objects, scores the predictions
    /// and commits `eval/<name>.yaml` with an evaluation tag. Re-evaluating is allowed; each
    /// run is a new commit and a new tag.
    public func evaluate(_ request: EvalRequest) throws -> EvalResult {
        let resolved = try resolve(request.reference, model: request.model)
        guard let version = resolved.version else {
            throw MVError(
                "'\(request.reference)' is not a registered version of '\(resolved.model)'",
                hint: "evaluate a version: mv eval \(resolved.model)@vN --data …")
        }
        let name = request.name ?? request.data.deletingPathExtension().lastPathComponent
        guard (try? ModelName(name)) != nil else {
            throw MVError("invalid evaluation name '\(name)': use \(ModelName.rule)", hint: "choose one with --name")
        }
        let content = try content(of: resolved)
        let model = try loadModel(content)
        let (dataset, targetSchema, dataFile) = try loadEvaluationData(
            request.data, manifest: content.manifest,
            ignoreUnknownCategories: request.ignoreUnknownCategories)
        let metrics = try score(model, on: dataset, target: targetSchema)
        let target = dataset.target

        let folder = folder(of: resolved.model)
        let path = "\(folder)/eval/\(name).yaml"
        if !request.force {
            let lock = try lockForWriting()
            let changes = try changes(under: path)
            withExtendedLifetime(lock) {}
            if !changes.isEmpty {
                throw MVError(
                    "'\(path)' has uncommitted changes; a new report would overwrite them",
                    hint: "commit or stash them, or pass --force")
            }
        }
        var report = EvaluationReport(
            metrics: metrics, model: resolved.model.value, version: version.description, dataset: dataFile,
            selection: nil, evaluatedAt: Environment.timestamp(Date()))
        try addDiagnostics(to: &report, model: model, on: dataset, target: targetSchema, features: try schemas(content.manifest).0)
        let staging = try makeStagingFolder()
        defer { try? FileManager.default.removeItem(at: staging) }
        let source = staging.appendingPathComponent("report.yaml")
        try Data(report.yaml().utf8).writeUnsynced(to: source)
        let file = StagedFile(path: path, blob: try repository.objects.writeBlob(fileAt: source), source: source)

        let headline = Self.headline(metrics, task: targetSchema.task)
        var trailers = Trailers()
        trailers.append("Model", resolved.model.value)
        trailers.append("Model-Version", version.description)
        trailers.append("Evaluation", name)
        trailers.append(metrics: headline)
        let summary =
            "\(resolved.model) \(version) evaluated on \(name): "
            + headline.map { "\($0.name) \(Self.formatMetric($0.value))" }.joined(separator: ", ")
        let body = "Data: \(dataFile.path) (sha256 \(dataFile.sha256.prefix(12)), \(dataFile.rows ?? 0) rows)."
        let signature = try repository.defaultSignature()
        let lock = try lockForWriting()
        defer { withExtendedLifetime(lock) {} }
        let published = try writer.publish(signature: signature, reflogPrefix: "mv eval") { _ in
            // Numbered per version: the next free N, re-read on every attempt.
            let taken = try self.repository.referenceNames(matching: TagNames.evaluationGlob(resolved.model, version))
                .compactMap { TagNames.parseEvaluation(ref: $0)?.number }
            let tagName = TagNames.evaluation(resolved.model, version, (taken.max() ?? 0) + 1)
            let time = try self.freshSecond(after: self.state(of: resolved.model))
            var tagTrailers = Trailers()
            tagTrailers.append("Report", path)
            tagTrailers.append(trailers)
            return Proposal(
                files: [file], replacedFolders: [], message: "\(summary)\n\n\(body)\n\n\(trailers.text)",
                tag: (tagName, "\(summary)\n\n\(tagTrailers.text)"), tagTime: time)
        }
        warnIfDetached(published)
        try workTree.sync(published.proposal)
        return EvalResult(
            model: resolved.model.value, version: version.description, name: name, metrics: metrics,
            rows: target.count, commit: published.commit.description, tag: published.tagName ?? "", reportPath: path)
    }
}
