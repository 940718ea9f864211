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
    /// How to fill missing values (refused when nil).
    public var impute: ImputeStrategy?
    /// Standardize numeric features (means and deviations are stored with the version).
    public var standardize = false
    public var version: String?
    public var force = false
    /// The command line, recorded in lineage.
    public var commandLine: [String] = []
    /// Set by `mv retrain`: the version retrained from, and why.
    public var parent: String?
    public var reason: String?

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
        let model = try modelToRegister(request.model)
        let explicitVersion = try request.version.map(SemanticVersion.init(userInput:))
        let trainer: any Trainer
        do { trainer = try Trainers.named(request.algorithm) } catch {
            throw MVError("\(error)", hint: "run 'mv train --help' for the options")
        }
        if !request.force { try ensureCleanBeforeWork(model) }
        let code = try codeState()

        let (table, dataFile) = try readTable(request.data)
        var hyperparameters = request.hyperparameters
        // Trees learn either task, by criterion; a measured target means regression unless
        // the user chose a criterion.
        if trainer.hyperparameters.contains(where: { $0.name == "criterion" }), hyperparameters["criterion"] == nil,
            TargetSchema.looksContinuous(table, target: request.target)
        {
            hyperparameters["criterion"] = "mse"
            notice?(
                "'\(request.target)' holds measured values, so \(trainer.algorithm) does regression (criterion mse); "
                    + "for classes, pass --param criterion=gini")
        }
        let task: Task
        do { task = try trainer.task(for: hyperparameters) } catch { throw MVError("\(error)") }
        let dataset: Dataset
        let targetSchema: TargetSchema
        let featureSchema: FeatureSchema
        do {
            (dataset, targetSchema, featureSchema) = try Dataset.load(
                table, target: request.target, task: task,
                options: PreprocessingOptions(impute: request.impute, standardize: request.standardize),
                source: request.data.lastPathComponent)
        } catch {
            throw MVError("\(error)")
        }
        var dataFileRecord = dataFile
        dataFileRecord.rows = dataset.count
        let parts: (train: Dataset, test: Dataset)
        let rows: (train: [Int], test: [Int])
        do { rows = try splitIndices(count: dataset.count, testFraction: request.testSize, seed: request.seed) } catch {
            throw MVError("\(error)")
        }
        parts = (dataset.subset(rows.train), dataset.subset(rows.test))
        if task == .classification, let only = parts.train.target.first, parts.train.target.allSatisfy({ $0 == only }) {
            throw MVError(
                "cannot train \(trainer.algorithm): the training rows of '\(targetSchema.name)' hold only the class '\(targetSchema.label(of: only))'; classification needs at least two",
                hint: "use data with more than one class, or another --seed/--test-size for the split")
        }
        let fitted: TrainedModel
        do { fitted = try trainer.fit(parts.train, hyperparameters: hyperparameters) } catch { throw MVError("\(error)") }

        var metrics: [(name: String, value: Double)] = []
        if parts.test.count > 0 {
            metrics = try score(fitted, on: parts.test, target: targetSchema)
        }
        let staging = try makeStagingFolder()
        defer { try? FileManager.default.removeItem(at: staging) }
        let folder = folder(of: model)
        let tensors = try fitted.parameters.map { tensor in
            let url = staging.appendingPathComponent("\(tensor.name).npy")
            try Npy.data(float64: tensor.values, shape: tensor.shape).writeUnsynced(to: url)
            return try stageTensor(name: tensor.name, npyFile: url, folder: folder)
        }
        // The per-epoch training loss goes with the version (not a parameter: not under params/).
        // Closed-form fits report a single number, the training error, which is no curve.
        var extraFiles: [StagedFile] = []
        if fitted.trainingLoss.count > 1 {
            let url = staging.appendingPathComponent("training-loss.npy")
            try Npy.data(float64: fitted.trainingLoss, shape: [fitted.trainingLoss.count]).writeUnsynced(to: url)
            extraFiles.append(
                StagedFile(
                    path: "\(folder)/\(Self.trainingLossFile)", blob: try repository.objects.writeBlob(fileAt: url),
                    source: url, ownsSource: true))
        }

        // What the training rows looked like, for `mv monitor` to compare live data with.
        var holdout: (predictions: [Double], target: TargetSchema)?
        if parts.test.count > 0 {
            do { holdout = (try fitted.predict(parts.test.features), targetSchema) } catch { throw MVError("\(error)") }
        }
        extraFiles.append(
            try stagedReference(
                trainingReference(
                    table: table, features: featureSchema, trainRows: rows.train, holdout: holdout, dataFile: dataFileRecord,
                    seed: request.seed), folder: folder, staging: staging))

        let selection = "held out \(parts.test.count) of \(dataset.count) rows (test_size \(request.testSize), seed \(request.seed))"
        let manifest = Manifest(
            name: model.value, version: "", task: fitted.task.rawValue, algorithm: fitted.algorithm,
            hyperparameters: .map(fitted.hyperparameters.map { ($0.name, YAMLValue.scalar(fromText: $0.value)) }),
            features: featureSchema.columns.map {
                Manifest.Column(name: $0.name, type: $0.kind == .categorical ? "categorical" : "float64")
            },
            target: Manifest.Column(name: targetSchema.name, type: task == .classification ? "class" : "float64"),
            lineage: Manifest.Lineage(
                data: [dataFileRecord],
                split: .map([
                    ("test_size", .double(request.testSize)), ("seed", .int(Int(truncatingIfNeeded: request.seed))),
                    ("train_rows", .int(parts.train.count)), ("test_rows", .int(parts.test.count)),
                ]),
                codeCommit: code.commit, codeBranch: code.branch, codeDirty: code.dirty,
                command: Environment.commandLine(request.commandLine), seed: request.seed, mvVersion: Registry.mvVersion,
                startedAt: Environment.timestamp(started), durationSeconds: Date().timeIntervalSince(started),
                host: Environment.hostName()),
            params: [])
        var manifestWithSchema = manifest
        manifestWithSchema.lineage.parent = request.parent
        manifestWithSchema.lineage.reason = request.reason
        manifestWithSchema.schema = .map([
            ("features", try YAMLValue.encode(featureSchema)), ("target", try YAMLValue.encode(targetSchema)),
        ])
        var reports: [(name: String, report: EvaluationReport)] = []
        if !metrics.isEmpty {
            var evalFile = dataFileRecord
            evalFile.rows = parts.test.count
            var report = EvaluationReport(
                metrics: metrics, model: model.value, version: "", dataset: evalFile,
                selection: selection, evaluatedAt: Environment.timestamp(Date()))
            try addDiagnostics(to: &report, model: fitted, on: parts.test, target: targetSchema, features: featureSchema)
            reports.append(("holdout", report))
        }
        var draft = VersionDraft(
            model: model, manifest: manifestWithSchema, tensors: tensors, reports: reports,
            headline: Self.headline(metrics, task: task),
            body:
                "Trained \(fitted.algorithm) on \(dataFile.path) (\(parts.train.count) train / \(parts.test.count) test rows, seed \(request.seed))."
        )
        draft.extraFiles = extraFiles
        if let parent = request.parent {
            draft.body += "\nRetrained from \(parent)" + (request.reason.map { ": \($0)" } ?? ".")
        }
        return try land(
            draft, explicitVersion: explicitVersion, force: request.force, staging: staging, reflogPrefix: "mv train",
            metrics: metrics, rows: (parts.train.count, parts.test.count))
    }

    static let trainingLossFile = "training/loss.npy"

    /// The training loss per epoch a version recorded, nil when it has none (closed-form
    /// fits, added weights).
    public func trainingLoss(of record: VersionRecord) throws -> [Double]? {
        let path = "\(folder(of: try ModelName(record.model)))/\(Self.trainingLossFile)"
        guard let commit = ObjectID(hex: record.commit), let data = try bytes(at: path, in: commit) else { return nil }
        do {
            return try Npy.values(from: data, fileName: "\(record.model)@\(record.version):\(path)").values
        } catch {
            throw MVError("\(error)")
        }
    }
}
