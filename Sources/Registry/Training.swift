import Foundation
import Git
import Learning
import ModelFormat

/// What `mv train` with a built-in algorithm needs.
public struct TrainRequest: Sendable {
    public var model: String
    public var data: URL
    public var target: String
    public var algorithm: String = "linear-regression"
    public var testSize: Double = 0.2
    public var seed: UInt64 = 42
    public var hyperparameters: [String: String] = [:]
    public var version: String?
    public var force = false
    /// The command line, recorded in lineage.
    public var commandLine: [String] = []

    public init(model: String, data: URL, target: String) {
        self.model = model
        self.data = data
        self.target = target
    }
}

/// A version that landed.
public struct TrainResult: Sendable {
    public let model: String
    public let version: String
    public let commit: String
    public let tag: String
    public let branch: String
    public let metrics: [(name: String, value: Double)]
    public let trainRows: Int
    public let testRows: Int
}

extension Registry {
    /// Trains a built-in algorithm on a CSV file, evaluates it on a held-out split and
    /// commits the model folder with a version tag. Nothing is written before training
    /// succeeds; a failure leaves the repository as it was.
    public func train(_ request: TrainRequest) throws -> TrainResult {
        let started = Date()
        let model = try ModelName(request.model)
        let explicitVersion = try request.version.map(SemanticVersion.init(userInput:))
        let trainer: any Trainer
        do { trainer = try Trainers.named(request.algorithm) } catch { throw MVError("\(error)", hint: "run 'mv train --help' for the options") }
        if !request.force { try ensureCleanBeforeWork(model) }
        let code = try codeState()

        let (dataset, dataFile) = try loadDataset(request.data, target: request.target)
        let parts: (train: Dataset, test: Dataset)
        do { parts = try split(dataset, testFraction: request.testSize, seed: request.seed) } catch { throw MVError("\(error)") }
        let fitted: TrainedModel
        do { fitted = try trainer.fit(parts.train, hyperparameters: request.hyperparameters) } catch { throw MVError("\(error)") }

        var metrics: [(name: String, value: Double)] = []
        if parts.test.count > 0 {
            let predictions = try fitted.predict(parts.test.features)
            metrics = Metrics.regression(predicted: predictions, actual: parts.test.target).map { ($0.name, $0.value) }
        }

        let staging = try makeStagingFolder()
        defer { try? FileManager.default.removeItem(at: staging) }
        let folder = folder(of: model)
        let tensors = try fitted.parameters.map { tensor in
            let url = staging.appendingPathComponent("\(tensor.name).npy")
            try Npy.data(float64: tensor.values, shape: tensor.shape).write(to: url)
            return try stageTensor(name: tensor.name, npyFile: url, folder: folder)
        }

        let selection = "held out \(parts.test.count) of \(dataset.count) rows (test_size \(request.testSize), seed \(request.seed))"
        let manifest = Manifest(
            name: model.value, version: "", task: fitted.task.rawValue, algorithm: fitted.algorithm,
            hyperparameters: .map(fitted.hyperparameters.map { ($0.name, YAMLValue.scalar(fromText: $0.value)) }),
            features: dataset.featureNames.map { Manifest.Column(name: $0, type: "float64") },
            target: Manifest.Column(name: dataset.targetName, type: "float64"),
            lineage: Manifest.Lineage(
                data: [dataFile],
                split: .map([("test_size", .double(request.testSize)), ("seed", .int(Int(truncatingIfNeeded: request.seed))),
                             ("train_rows", .int(parts.train.count)), ("test_rows", .int(parts.test.count))]),
                codeCommit: code.commit, codeBranch: code.branch, codeDirty: code.dirty,
                command: Environment.commandLine(request.commandLine), seed: request.seed, mvVersion: Registry.mvVersion,
                startedAt: Environment.timestamp(started), durationSeconds: Date().timeIntervalSince(started),
                host: Environment.hostName()),
            params: [])
        var reports: [(name: String, report: EvaluationReport)] = []
        if !metrics.isEmpty {
            var evalFile = dataFile
            evalFile.rows = parts.test.count
            reports.append(("holdout", EvaluationReport(metrics: metrics, model: model.value, version: "", dataset: evalFile,
                                                        selection: selection, evaluatedAt: Environment.timestamp(Date()))))
        }
        let headlineNames = ["rmse", "r2"]
        let draft = VersionDraft(
            model: model, manifest: manifest, tensors: tensors, reports: reports,
            headline: metrics.filter { headlineNames.contains($0.name) },
            body: "Trained \(fitted.algorithm) on \(dataFile.path) (\(parts.train.count) train / \(parts.test.count) test rows, seed \(request.seed)).")
        let (version, published) = try commitVersion(draft, explicitVersion: explicitVersion, force: request.force,
                                                     staging: staging, reflogPrefix: "mv train")
        return TrainResult(model: model.value, version: version.description, commit: published.commit.description,
                           tag: TagNames.version(model, version), branch: published.branch, metrics: metrics,
                           trainRows: parts.train.count, testRows: parts.test.count)
    }

    func loadDataset(_ url: URL, target: String) throws -> (Dataset, Manifest.DataFile) {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw MVError("cannot read data file '\(url.path)': no such file")
        }
        let name = url.lastPathComponent
        do {
            let table = try CSV.parse(data, source: name)
            let dataset = try Dataset.load(table, target: target, source: name)
            let file = Manifest.DataFile(path: lineagePath(url), role: "train", sha256: ContentHash.sha256(data), rows: dataset.count)
            return (dataset, file)
        } catch let error as LearningError {
            throw MVError("\(error)")
        }
    }
}

extension YAMLValue {
    /// Reads a hyperparameter given as text the way YAML would: `true` is a flag, `42` an
    /// integer, `0.1` a number, anything else text.
    static func scalar(fromText text: String) -> YAMLValue {
        if text == "true" { return .bool(true) }
        if text == "false" { return .bool(false) }
        if let value = Int(text) { return .int(value) }
        if let value = Double(text), value.isFinite { return .double(value) }
        return .string(text)
    }
}
