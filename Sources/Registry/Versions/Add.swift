import Foundation
import Git
import Learning
import ModelFormat
import SystemIO
import TensorStore

/// What `mv add` needs: externally trained weights to register as a version.
public struct AddRequest: Sendable {
    public var model: String
    /// A .safetensors file, a .npy file, or a folder of them.
    public var weights: URL
    public var metrics: URL?
    public var hyperparameters: URL?
    public var task: Task?
    public var version: String?
    public var force = false
    public var commandLine: [String] = []
    /// The predictor `mv serve` runs for this version (argv), and files it needs, committed
    /// in the version's `serve/` folder.
    public var serveCommand: [String]?
    public var serveFiles: [URL] = []
    /// A CSV whose columns' distributions are recorded as the version's reference.
    public var reference: URL?

    public init(model: String, weights: URL) {
        self.model = model
        self.weights = weights
    }
}

extension Registry {
    /// Registers weights trained elsewhere (e.g. a Hugging Face checkpoint) as a new
    /// version: every tensor becomes its own .npy file and blob (an unchanged tensor is the
    /// blob already stored), and a safetensors file's header is kept so that
    /// `mv export --format safetensors` writes the original file back byte for byte.
    public func add(_ request: AddRequest) throws -> TrainResult {
        let started = Date()
        let model = try modelToRegister(request.model)
        let explicitVersion = try request.version.map(SemanticVersion.init(userInput:))
        PhaseTrace.mark("add: start")
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: request.weights.path, isDirectory: &isDirectory) else {
            throw MVError("cannot read weights '\(request.weights.path)': no such file or folder")
        }
        let inputs: [URL]
        if isDirectory.boolValue {
            inputs = try fileManager.contentsOfDirectory(atPath: request.weights.path).sorted()
                .map { request.weights.appendingPathComponent($0) }
                .filter { ["npy", "safetensors"].contains($0.pathExtension) }
            guard !inputs.isEmpty else {
                throw MVError("'\(request.weights.path)' holds no .npy or .safetensors files")
            }
        } else {
            guard ["npy", "safetensors"].contains(request.weights.pathExtension) else {
                throw MVError(
                    "'\(request.weights.lastPathComponent)' is neither a .safetensors nor a .npy file",
                    hint: "pass a .safetensors file, a .npy file, or a folder of .npy files")
            }
            inputs = [request.weights]
        }
        // Before any tensor is stored: a reference that cannot be read stops the command here.
        let reference = try request.reference.map { try referenceProfile(fromCSV: $0, columns: nil) }
        // Headers are read and checked on another thread while the repository is.
        let planning = Background { try WeightPlanner.plan(inputs) }
        if !request.force { try ensureCleanBeforeWork(model) }
        PhaseTrace.mark("add: clean check")
        let code = try codeState()
        PhaseTrace.mark("add: code state")

        let staging = try makeStagingFolder()
        defer {
            try? fileManager.removeItem(at: staging)
            // A pack stored for a version that did not land (the command failed) goes too.
            tensors.finished()
        }
        let weights = try stageWeights(inputs, planning: planning, model: model, staging: staging, trustWorkTree: !request.force)
        defer { _ = weights.cacheWrites.wait() }
        PhaseTrace.mark("add: weights staged")
        let tensors = weights.tensors
        let dataFiles = weights.dataFiles
        let source =
            weights.source
            ?? .map([
                ("format", .string(inputs.count == 1 ? inputs[0].pathExtension : "folder")),
                ("file", .string(request.weights.lastPathComponent)),
            ])

        let hyperparameters =
            try request.hyperparameters.map { url -> YAMLValue in
                let value = try readUserYAML(url)
                guard case .map = value else {
                    throw MVError("'\(url.lastPathComponent)' must be a mapping of hyperparameter names to values")
                }
                return value
            } ?? .map([])
        var reports: [(name: String, report: EvaluationReport)] = []
        var metrics: [(name: String, value: Double)] = []
        if let url = request.metrics {
            metrics = try readMetricsFile(url)
            let name = url.deletingPathExtension().lastPathComponent
            guard (try? ModelName(name)) != nil else {
                throw MVError("cannot name a report after '\(url.lastPathComponent)': rename it to <name>.yaml with \(ModelName.rule)")
            }
            reports.append(
                (
                    name,
                    EvaluationReport(
                        metrics: metrics, model: model.value, version: "",
                        dataset: Manifest.DataFile(path: "(reported with the weights)", role: "evaluation", sha256: "unknown", rows: nil),
                        selection: "metrics supplied with mv add --metrics", evaluatedAt: Environment.timestamp(Date()))
                ))
        }
        var manifest = Manifest(
            name: model.value, version: "", task: request.task?.rawValue ?? "unspecified", algorithm: "imported",
            hyperparameters: hyperparameters, features: [], target: nil,
            lineage: Manifest.Lineage(
                data: dataFiles, split: nil, codeCommit: code.commit, codeBranch: code.branch, codeDirty: code.dirty,
                command: Environment.commandLine(request.commandLine), seed: nil, mvVersion: Registry.mvVersion,
                startedAt: Environment.timestamp(started), durationSeconds: Date().timeIntervalSince(started), host: Environment.hostName()),
            params: [])
        manifest.source = source
        manifest.serveCommand = request.serveCommand
        var draft = VersionDraft(
            model: model, manifest: manifest, tensors: tensors, reports: reports,
            headline: Array(metrics.prefix(2)),
            body: "Imported \(tensors.count) tensors from \(request.weights.lastPathComponent).")
        draft.extraFiles =
            weights.extraFiles + (try stageServeFiles(request.serveFiles, command: request.serveCommand, folder: folder(of: model)))
        if let reference {
            draft.extraFiles.append(try stagedReference(reference, folder: folder(of: model), staging: staging))
        }
        PhaseTrace.mark("add: draft")
        return try land(
            draft, explicitVersion: explicitVersion, force: request.force, staging: staging, reflogPrefix: "mv add",
            metrics: metrics, rows: (0, 0))
    }

    static let safetensorsHeaderFile = "safetensors-header.json"

    /// The predictor's files, each into `<model>/serve/<name>` (kept executable if it is).
    func stageServeFiles(_ serveFiles: [URL], command: [String]?, folder: String) throws -> [StagedFile] {
        if !serveFiles.isEmpty, command == nil {
            throw MVError("--serve-file needs --serve-command", hint: "e.g. --serve-command 'python3 predict.py' --serve-file predict.py")
        }
        var names = Set<String>()
        return try serveFiles.map { url in
            let name = url.lastPathComponent
            guard names.insert(name).inserted else {
                throw MVError("two serve files are named '\(name)'", hint: "they all land in serve/; rename one")
            }
            let attributes: [FileAttributeKey: Any]
            do { attributes = try FileManager.default.attributesOfItem(atPath: url.path) } catch {
                throw MVError("cannot read serve file '\(url.path)': no such file")
            }
            guard attributes[.type] as? FileAttributeType == .typeRegular else {
                throw MVError("serve file '\(url.path)' is not a regular file", hint: "pass each file the predictor needs")
            }
            guard let size = attributes[.size] as? Int, size <= 64 << 20 else {
                throw MVError("serve file '\(url.path)' is over 64 MiB", hint: "weights belong in --weights; serve files are code")
            }
            let executable = ((attributes[.posixPermissions] as? Int) ?? 0) & 0o100 != 0
            return StagedFile(
                path: "\(folder)/serve/\(name)", blob: try repository.objects.writeBlob(fileAt: url),
                mode: executable ? .executable : .blob, source: url)
        }
    }

    /// Tensors from .npy and .safetensors files, each staged as one .npy of the version
    /// (see `TensorStore`); a single safetensors file also yields its header and a `source`
    /// record so it can be written back exactly.
    func stageWeights(
        _ inputs: [URL], planning: Background<PlannedWeights>? = nil, model: ModelName, staging: URL,
        trustWorkTree: Bool
    )
        throws -> (
            tensors: [StagedTensor], extraFiles: [StagedFile], source: YAMLValue?, dataFiles: [Manifest.DataFile],
            cacheWrites: Background<Void>
        )
    {
        let folder = self.folder(of: model)
        let plans = planning ?? Background { try WeightPlanner.plan(inputs) }
        let request = StoreRequest(
            plans: plans, previous: { try self.previousTensors(model: model, trustWorkTree: trustWorkTree) },
            staging: staging, progress: { done, total in self.progress?(done, total, "storing") })
        let outcome = try tensors.store(request)
        let planned = try plans.value()
        var extraFiles: [StagedFile] = []
        var source: YAMLValue?
        if let file = planned.safetensors, let header = planned.safetensorsHeader {
            let input = file.url
            let headerFile = staging.appendingPathComponent("safetensors-header.json")
            try header.writeUnsynced(to: headerFile)
            extraFiles.append(
                StagedFile(
                    path: "\(folder)/\(Self.safetensorsHeaderFile)",
                    blob: try repository.objects.writeBlob(fileAt: headerFile), source: headerFile))
            let size = (try? FileManager.default.attributesOfItem(atPath: input.path)[.size] as? Int) ?? 0
            source = .map([
                ("format", .string("safetensors")), ("file", .string(input.lastPathComponent)), ("bytes", .int(size)),
                ("header", .string(Self.safetensorsHeaderFile)),
                ("metadata", .map(file.metadata.keys.sorted().map { ($0, .string(file.metadata[$0] ?? "")) })),
                ("data_order", .list(file.tensors.sorted { $0.dataBegin < $1.dataBegin }.map { .string($0.name) })),
            ])
        }
        PhaseTrace.mark("stage: header stored")

        let tensors = outcome.tensors.map { tensor -> StagedTensor in
            let record = tensor.record
            guard record.chunkBytes != nil else {
                var file = StagedFile(
                    path: "\(folder)/\(record.file)", blob: tensor.blobs[0], source: tensor.stagedFile,
                    ownsSource: tensor.stagedFile != nil)
                // Not in place and not staged: the work tree gets it from the stored blob.
                if tensor.inPlace { file.placement = .inPlace }
                return StagedTensor(record: record, files: [file])
            }
            let chunks = zip(record.chunkNames, tensor.blobs).map { name, blob in
                var file = StagedFile(path: "\(folder)/\(record.chunkFolder)/\(name)", blob: blob, source: nil)
                file.placement = .skipWorktree
                return file
            }
            var assembled = AssembledFile(path: "\(folder)/\(record.file)", chunks: tensor.blobs, source: tensor.stagedFile)
            assembled.base = tensor.patchBase
            assembled.patches = tensor.patches
            return StagedTensor(record: record, files: chunks, assembled: assembled)
        }
        return (tensors, extraFiles, source, [], outcome.cacheWrites)
    }

    /// The tensors of the model folder as last committed on HEAD, with their work-tree files
    /// when those can be trusted to hold the committed bytes: the folder is clean (git's own
    /// test, stat data against the index) and assembled files are as mv wrote them.
    func previousTensors(model: ModelName, trustWorkTree: Bool) throws -> [String: PreviousTensor] {
        let folder = self.folder(of: model)
        guard let head = try repository.head().target else { return [:] }
        let tree = try repository.tree(repository.commit(head).treeID)
        // Only a folder mv registered is known to match its manifest's sha256 records; one a
        // plain commit edited is simply hashed again.
        guard let folderEntry = try tree.entry(atPath: folder),
            try versionNumbers(of: model).sorted(by: >).prefix(20).contains(where: { version in
                let commit = try repository.resolveCommit(TagNames.version(model, version))
                return try repository.tree(repository.commit(commit).treeID).entry(atPath: folder)?.id == folderEntry.id
            }),
            let manifestEntry = try tree.entry(atPath: "\(folder)/\(Manifest.fileName)"),
            let manifest = try? Manifest.parse(String(decoding: try repository.objects.readBlob(manifestEntry.id), as: UTF8.self))
        else {
            return [:]
        }
        let workdir = trustWorkTree ? repository.workingDirectory : nil
        let clean = try workdir.map { _ in try changes(under: folder).isEmpty } ?? false
        let assembled = AssembledFiles(state)
        var previous: [String: PreviousTensor] = [:]
        for record in manifest.params {
            let blobs: [ObjectID]
            if record.chunkBytes != nil {
                guard let entry = try tree.entry(atPath: "\(folder)/\(record.chunkFolder)"), entry.isTree else { continue }
                blobs = try repository.tree(entry.id).entries.filter { !$0.isTree }.sorted { $0.name < $1.name }.map(\.id)
                guard blobs.count == record.chunkNames.count else { continue }
            } else {
                guard let entry = try tree.entry(atPath: "\(folder)/\(record.file)"), !entry.isTree else { continue }
                blobs = [entry.id]
            }
            var workFile: URL?
            if let workdir, clean {
                let path = "\(folder)/\(record.file)"
                if record.chunkBytes == nil || assembled.isIntact(path, workdir: workdir, chunks: blobs) {
                    workFile = workdir.appendingPathComponent(path)
                }
            }
            previous[record.name] = PreviousTensor(record: record, blobs: blobs, workFile: workFile)
        }
        return previous
    }
}
