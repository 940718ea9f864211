import Foundation
import Git
import Learning
import ModelFormat
import SystemIO
import TensorStore

/// What `mv train <model> -- <command…>` needs: the user's own training program.
public struct CommandTrainRequest: Sendable {
    public var model: String
    public var command: [String]
    public var data: [URL] = []
    public var task: Task?
    public var seed: UInt64?
    public var version: String?
    public var force = false
    public var commandLine: [String] = []
    /// A CSV whose columns' distributions are recorded as the version's reference.
    public var reference: URL?
    /// Set by `mv retrain`: the version retrained from, and why.
    public var parent: String?
    public var reason: String?

    public init(model: String, command: [String]) {
        self.model = model
        self.command = command
    }
}

/// The contract with a user's training command, documented in docs/FORMAT.md.
public enum CommandContract {
    public static let outputVariable = "MV_OUTPUT_DIR"
    public static let modelVariable = "MV_MODEL"
    public static let versionVariable = "MV_VERSION"
    public static let seedVariable = "MV_SEED"
    public static let dataVariable = "MV_DATA"
    public static let repositoryVariable = "MV_REPO"
    static let hyperparameterFiles = ["hyperparameters.yaml", "hyperparameters.yml", "hyperparameters.json"]
    static let metricFiles = ["metrics.yaml", "metrics.yml", "metrics.json"]
}

extension Registry {
    /// Runs the user's command with an empty output folder, then validates and commits what
    /// it wrote. A command that fails commits nothing and its exit status becomes mv's.
    public func trainWithCommand(_ request: CommandTrainRequest) throws -> TrainResult {
        let started = Date()
        let model = try modelToRegister(request.model)
        let explicitVersion = try request.version.map(SemanticVersion.init(userInput:))
        guard let executable = request.command.first else {
            throw MVError("no training command after '--'", hint: "e.g. mv train \(model) -- python train.py")
        }
        if !request.force { try ensureCleanBeforeWork(model) }
        let code = try codeState()
        let dataFiles = try request.data.map { url -> Manifest.DataFile in
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw MVError("cannot read data file '\(url.path)': no such file")
            }
            return Manifest.DataFile(
                path: lineagePath(url), role: "train", sha256: try ContentHash.sha256(fileAt: url),
                rows: Self.countDataRows(url))
        }

        // Before the command runs: a reference that cannot be read stops here.
        let reference = try request.reference.map { try referenceProfile(fromCSV: $0, columns: nil) }
        let staging = try makeStagingFolder()
        defer {
            try? FileManager.default.removeItem(at: staging)
            // A pack stored for a version that did not land (the command failed) goes too.
            tensors.finished()
        }
        let output = staging.appendingPathComponent("output", isDirectory: true)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)

        var environment = ProcessInfo.processInfo.environment
        environment[CommandContract.outputVariable] = output.path
        environment[CommandContract.modelVariable] = model.value
        environment[CommandContract.versionVariable] = (try explicitVersion ?? nextVersion(of: model)).description
        environment[CommandContract.seedVariable] = request.seed.map(String.init)
        environment[CommandContract.dataVariable] = request.data.map(\.path).joined(separator: ":")
        environment[CommandContract.repositoryVariable] = workingDirectory?.path
        let status = try Self.run(request.command, environment: environment)
        guard status == 0 else {
            throw MVError("training command '\(executable)' exited with status \(status); nothing was committed", exitCode: status)
        }

        let weights = try collectTensors(output, staging: staging, model: model, executable: executable, trustWorkTree: !request.force)
        let hyperparameters = try outputFile(in: output, names: CommandContract.hyperparameterFiles).map(readUserYAML) ?? .map([])
        guard case .map = hyperparameters else {
            throw MVError("'hyperparameters' written by '\(executable)' must be a mapping of names to values")
        }
        let metrics = try outputFile(in: output, names: CommandContract.metricFiles).map(readMetricsFile) ?? []
        let task =
            request.task
            ?? (metrics.contains { ["accuracy", "f1", "precision", "recall", "auc", "log_loss"].contains($0.name) }
                ? .classification : .regression)

        var manifest = Manifest(
            name: model.value, version: "", task: task.rawValue, algorithm: "custom", hyperparameters: hyperparameters,
            features: [], target: nil,
            lineage: Manifest.Lineage(
                data: dataFiles, split: nil, codeCommit: code.commit, codeBranch: code.branch, codeDirty: code.dirty,
                command: Environment.commandLine(request.command), seed: request.seed, mvVersion: Registry.mvVersion,
                startedAt: Environment.timestamp(started), durationSeconds: Date().timeIntervalSince(started),
                host: Environment.hostName()),
            params: [])
        manifest.lineage.trainCommand = request.command
        manifest.lineage.parent = request.parent
        manifest.lineage.reason = request.reason
        manifest.source = weights.source
        let serve = try servePredictor(in: output, executable: executable)
        manifest.serveCommand = serve.command
        var reports: [(name: String, report: EvaluationReport)] = []
        if !metrics.isEmpty {
            let dataset =
                dataFiles.first
                ?? Manifest.DataFile(
                    path: "(reported by the training command)", role: "evaluation",
                    sha256: "unknown", rows: nil)
            reports.append(
                (
                    "train",
                    EvaluationReport(
                        metrics: metrics, model: model.value, version: "", dataset: dataset,
                        selection: "metrics reported by the training command",
                        evaluatedAt: Environment.timestamp(Date()))
                ))
        }
        var draft = VersionDraft(
            model: model, manifest: manifest, tensors: weights.tensors, reports: reports,
            headline: Array(metrics.prefix(2)),
            body: "Trained by: \(Environment.commandLine(request.command))")
        draft.extraFiles = weights.extraFiles + (try stageServeFiles(serve.files, command: serve.command, folder: folder(of: model)))
        if let reference {
            draft.extraFiles.append(try stagedReference(reference, folder: folder(of: model), staging: staging))
        }
        if let parent = request.parent {
            draft.body += "\nRetrained from \(parent)" + (request.reason.map { ": \($0)" } ?? ".")
        }
        return try land(
            draft, explicitVersion: explicitVersion, force: request.force, staging: staging, reflogPrefix: "mv train",
            metrics: metrics, rows: (dataFiles.first?.rows ?? 0, 0))
    }

    /// The predictor a training command declares for `mv serve`: `serve.yaml` holding
    /// `command: [program, argument, …]`, and the files of `serve/` beside it.
    private func servePredictor(in output: URL, executable: String) throws -> (command: [String]?, files: [URL]) {
        let folder = output.appendingPathComponent("serve")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted().map {
            folder.appendingPathComponent($0)
        }
        let file = output.appendingPathComponent("serve.yaml")
        guard FileManager.default.fileExists(atPath: file.path) else {
            if !files.isEmpty {
                throw MVError(
                    "'\(executable)' wrote serve/ but no serve.yaml naming the command that uses it",
                    hint: "write serve.yaml with 'command: [python3, predict.py]' (docs/SERVING.md)")
            }
            return (nil, [])
        }
        guard case .map(let pairs) = try readUserYAML(file), let value = pairs.first(where: { $0.0 == "command" })?.1,
            case .list(let items) = value, !items.isEmpty
        else {
            throw MVError("'serve.yaml' written by '\(executable)' must hold 'command: [program, argument, …]'")
        }
        let command = try items.map { item -> String in
            guard let text = item.stringValue, !text.isEmpty else {
                throw MVError("'serve.yaml' written by '\(executable)': every command word must be a non-empty string")
            }
            return text
        }
        return (command, files)
    }

    /// `.npy` files under `params/` (or the output root) and tensors of any `.safetensors`
    /// file there, each becoming one `.npy` file of the version.
    private func collectTensors(_ output: URL, staging: URL, model: ModelName, executable: String, trustWorkTree: Bool)
        throws -> (tensors: [StagedTensor], extraFiles: [StagedFile], source: YAMLValue?)
    {
        var candidates: [URL] = []
        for directory in [output, output.appendingPathComponent("params")] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            candidates += names.sorted().map { directory.appendingPathComponent($0) }.filter {
                ["npy", "safetensors"].contains($0.pathExtension)
            }
        }
        let weights = try stageWeights(candidates, model: model, staging: staging, trustWorkTree: trustWorkTree)
        _ = weights.cacheWrites.wait()
        guard !weights.tensors.isEmpty else {
            throw MVError(
                "training command '\(executable)' wrote no parameters; nothing was committed",
                hint:
                    "write .npy files to $\(CommandContract.outputVariable)/params/ or a .safetensors file to $\(CommandContract.outputVariable)/"
            )
        }
        return (weights.tensors, weights.extraFiles, weights.source)
    }

    /// The one file of `names` the command wrote, if any.
    private func outputFile(in folder: URL, names: [String]) throws -> URL? {
        let present = names.filter { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }
        guard present.count <= 1 else { throw MVError("the training command wrote both \(present.joined(separator: " and ")); keep one") }
        return present.first.map { folder.appendingPathComponent($0) }
    }

    static func countDataRows(_ url: URL) -> Int? {
        guard url.pathExtension.lowercased() == "csv", let data = try? Data(contentsOf: url) else { return nil }
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        return max(0, lines.count - 1)
    }

    /// Runs `command` with inherited stdin/stdout/stderr (its output is the user's to see)
    /// and returns its exit status; a missing program is reported like a shell would.
    static func run(_ command: [String], environment: [String: String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.environment = environment
        do {
            try ChildExit(starting: process).wait()
        } catch {
            throw MVError("cannot run training command '\(command[0])': \(error.localizedDescription)", exitCode: 127)
        }
        return process.shellStatus
    }
}
