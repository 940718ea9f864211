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

extension TagNames {
    /// Evaluation tags: `eval/<model>/<version>/<N>`. GTO ignores this shape (it is neither
    /// `name@version` nor `name#stage`), so the version tag stays the only GTO tag involved.
    public static func evaluationGlob(_ model: ModelName, _ version: SemanticVersion) -> String {
        "refs/tags/eval/\(model)/\(version)/*"
    }

    public static func evaluation(_ model: ModelName, _ version: SemanticVersion, _ number: Int) -> String {
        "eval/\(model)/\(version)/\(number)"
    }

    public static func parseEvaluation(ref: String) -> (model: ModelName, version: SemanticVersion, number: Int)? {
        let parts = ref.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "refs", parts[1] == "tags", parts[2] == "eval",
              let model = try? ModelName(String(parts[3])), let version = SemanticVersion(tag: String(parts[4])),
              let number = Int(parts[5]), number > 0 else { return nil }
        return (model, version, number)
    }
}

extension Registry {
    /// Predicts with the version's parameters read from Git objects, scores the predictions
    /// and commits `eval/<name>.yaml` with an evaluation tag. Re-evaluating is allowed; each
    /// run is a new commit and a new tag.
    public func evaluate(_ request: EvalRequest) throws -> EvalResult {
        let resolved = try resolve(request.reference, model: request.model)
        guard let version = resolved.version else {
            throw MVError("'\(request.reference)' is not a registered version of '\(resolved.model)'",
                          hint: "evaluate a version: mv eval \(resolved.model)@vN --data …")
        }
        let name = request.name ?? request.data.deletingPathExtension().lastPathComponent
        guard (try? ModelName(name)) != nil else {
            throw MVError("invalid evaluation name '\(name)': use \(ModelName.rule)", hint: "choose one with --name")
        }
        let content = try content(of: resolved)
        let model = try loadModel(content)
        let (dataset, targetSchema, dataFile) = try loadEvaluationData(request.data, manifest: content.manifest,
                                                                       ignoreUnknownCategories: request.ignoreUnknownCategories)
        let metrics = try score(model, on: dataset, target: targetSchema)
        let target = dataset.target

        let folder = folder(of: resolved.model)
        let path = "\(folder)/eval/\(name).yaml"
        if !request.force {
            let lock = try writer.lock()
            let changes = try repository.status(under: path)
            withExtendedLifetime(lock) {}
            if !changes.isEmpty {
                throw MVError("'\(path)' has uncommitted changes; a new report would overwrite them",
                              hint: "commit or stash them, or pass --force")
            }
        }
        var report = EvaluationReport(metrics: metrics, model: resolved.model.value, version: version.description, dataset: dataFile,
                                      selection: nil, evaluatedAt: Environment.timestamp(Date()))
        report.confusion = try confusion(model, on: dataset, target: targetSchema)
        let staging = try makeStagingFolder()
        defer { try? FileManager.default.removeItem(at: staging) }
        let source = staging.appendingPathComponent("report.yaml")
        try Data(report.yaml().utf8).writeUnsynced(to: source)
        let file = StagedFile(path: path, blob: try repository.objects.writeBlob(fileAt: source), source: source)

        let headline = Self.headline(metrics, task: targetSchema.task)
        let trailers = (["Model: \(resolved.model)", "Model-Version: \(version)", "Evaluation: \(name)"]
            + headline.map { "Metric-\($0.name): \(YAMLValue.format($0.value))" }).joined(separator: "\n")
        let summary = "\(resolved.model) \(version) evaluated on \(name): "
            + headline.map { "\($0.name) \(Self.formatMetric($0.value))" }.joined(separator: ", ")
        let body = "Data: \(dataFile.path) (sha256 \(dataFile.sha256.prefix(12)), \(dataFile.rows ?? 0) rows)."
        let signature = try repository.defaultSignature()
        let lock = try writer.lock()
        defer { withExtendedLifetime(lock) {} }
        let published = try writer.publish(signature: signature, reflogPrefix: "mv eval") { _ in
            // Numbered per version: the next free N, re-read on every attempt.
            let taken = try self.repository.referenceNames(matching: TagNames.evaluationGlob(resolved.model, version))
                .compactMap { TagNames.parseEvaluation(ref: $0)?.number }
            let tagName = TagNames.evaluation(resolved.model, version, (taken.max() ?? 0) + 1)
            let time = try self.freshSecond(after: self.state(of: resolved.model))
            return Proposal(files: [file], replacedFolders: [], message: "\(summary)\n\n\(body)\n\n\(trailers)\n",
                            tag: (tagName, "\(summary)\n\nReport: \(path)\n\(trailers)\n"), tagTime: time)
        }
        try writer.syncWorkTree(published.proposal)
        return EvalResult(model: resolved.model.value, version: version.description, name: name, metrics: metrics,
                          rows: target.count, commit: published.commit.description, tag: published.tagName ?? "", reportPath: path)
    }

    /// The schemas a version was trained with: stored ones, or (for versions from before
    /// schemas were stored) all-numeric features and a numeric target.
    func schemas(_ manifest: Manifest) throws -> (FeatureSchema, TargetSchema) {
        guard let target = manifest.target else {
            throw MVError("\(manifest.name) \(manifest.version) records no target column, so it cannot be scored on a CSV")
        }
        if let schema = manifest.schema, let features = schema["features"], let targetValue = schema["target"] {
            do {
                return (try features.decode(FeatureSchema.self), try targetValue.decode(TargetSchema.self))
            } catch {
                throw MVError("\(manifest.name) \(manifest.version): the stored schema cannot be read (\(error))")
            }
        }
        let columns = manifest.features.map { FeatureSchema.Column(name: $0.name, kind: .numeric) }
        return (FeatureSchema(columns: columns, impute: nil, standardize: false, ignoreUnknownCategories: false),
                TargetSchema(name: target.name, task: .regression))
    }

    /// Reads an evaluation CSV through the version's schemas: every feature and the target
    /// must be there, nothing else, and categories must be known (unless told to ignore them).
    func loadEvaluationData(_ url: URL, manifest: Manifest, ignoreUnknownCategories: Bool = false)
        throws -> (Dataset, TargetSchema, Manifest.DataFile) {
        var (features, target) = try schemas(manifest)
        features.ignoreUnknownCategories = features.ignoreUnknownCategories || ignoreUnknownCategories
        var (table, file) = try readTable(url)
        let name = url.lastPathComponent
        guard table.header.contains(target.name) else {
            throw MVError("no column '\(target.name)' (the target of \(manifest.name) \(manifest.version)) in '\(name)' (columns: \(table.header.joined(separator: ", ")))",
                          hint: "evaluation data needs the features and the true target values; for predictions without a target, use mv predict")
        }
        let expected = features.columns.map(\.name) + [target.name]
        if let extra = table.header.first(where: { !expected.contains($0) }) {
            throw MVError("unexpected column '\(extra)' in '\(name)': \(manifest.name) \(manifest.version) was trained on \(features.columns.map(\.name).joined(separator: ", ")) -> \(target.name)",
                          hint: "drop the column, or train a version that uses it")
        }
        do {
            let dataset = try Dataset.load(table, target: target, features: features, source: name)
            file.role = "evaluation"
            file.rows = dataset.count
            return (dataset, target, file)
        } catch {
            throw MVError("\(error)")
        }
    }
}
