// ModelFormat: the files of a model folder and the tensor formats mv reads and writes —
// `.npy` (headers, values, statistics), safetensors, `model.yaml` (the manifest), evaluation
// reports, the model card, the YAML subset mv emits, and the keyed tensor fingerprint
// (over CPolyHash). Pure formats: it parses and writes bytes and files it is handed and
// knows nothing of Git, repositories or where a version's files are stored. Its parsers of
// untrusted input are fuzzed (Tests/Fuzz).

import Foundation

/// `model.yaml`: what a model version is, how it was made, and a fingerprint of every
/// parameter tensor. Written with keys in one fixed order so manifests diff minimally.
public struct Manifest: Sendable, Equatable {
    public static let formatVersion = 1
    public static let fileName = "model.yaml"

    public var format: Int = Manifest.formatVersion
    public var name: String
    public var version: String
    public var task: String
    public var algorithm: String
    /// Every hyperparameter, defaults included; a map value.
    public var hyperparameters: YAMLValue
    public var features: [Column]
    public var target: Column?
    public var lineage: Lineage
    /// Where imported weights came from (`mv add`): format, file, hash, and what is needed
    /// to write the original file back byte for byte.
    public var source: YAMLValue?
    /// How raw CSV columns become the model's inputs and outputs (categories, fill values,
    /// standardization, classes), so eval and predict apply exactly what training did.
    public var schema: YAMLValue?
    /// For versions mv cannot run itself: the predictor command `mv serve` starts (argv,
    /// run in a folder holding the version's files; docs/SERVING.md has the protocol).
    public var serveCommand: [String]?
    public var params: [TensorRecord]

    public init(
        name: String, version: String, task: String, algorithm: String, hyperparameters: YAMLValue,
        features: [Column], target: Column?, lineage: Lineage, params: [TensorRecord]
    ) {
        self.name = name
        self.version = version
        self.task = task
        self.algorithm = algorithm
        self.hyperparameters = hyperparameters
        self.features = features
        self.target = target
        self.lineage = lineage
        self.params = params
    }

    /// A named input or output column and its type.
    public struct Column: Sendable, Equatable {
        public var name: String
        public var type: String
        public init(name: String, type: String) {
            self.name = name
            self.type = type
        }
    }

    /// Where a version came from: data, code, command and machine.
    public struct Lineage: Sendable, Equatable {
        public var data: [DataFile]
        public var split: YAMLValue?
        public var codeCommit: String?
        public var codeBranch: String?
        public var codeDirty: Bool
        public var command: String
        public var seed: UInt64?
        public var mvVersion: String
        public var startedAt: String
        public var durationSeconds: Double
        public var host: String
        /// The version this one was retrained from (`churn@v3.0.0`), and why (`mv retrain`).
        public var parent: String?
        public var reason: String?
        /// A user's training command (argv after `--`), which `mv retrain` runs again.
        public var trainCommand: [String]?

        public init(
            data: [DataFile], split: YAMLValue?, codeCommit: String?, codeBranch: String?, codeDirty: Bool,
            command: String, seed: UInt64?, mvVersion: String, startedAt: String, durationSeconds: Double, host: String
        ) {
            self.data = data
            self.split = split
            self.codeCommit = codeCommit
            self.codeBranch = codeBranch
            self.codeDirty = codeDirty
            self.command = command
            self.seed = seed
            self.mvVersion = mvVersion
            self.startedAt = startedAt
            self.durationSeconds = durationSeconds
            self.host = host
        }
    }

    /// A data file a version was trained or evaluated on, identified by content.
    public struct DataFile: Sendable, Equatable {
        public var path: String
        public var role: String
        public var sha256: String
        public var rows: Int?
        public init(path: String, role: String, sha256: String, rows: Int?) {
            self.path = path
            self.role = role
            self.sha256 = sha256
            self.rows = rows
        }
    }

    /// One parameter tensor: its file, layout, content hash and summary statistics.
    public struct TensorRecord: Sendable, Equatable {
        public var name: String
        public var file: String
        public var dtype: String
        public var shape: [Int]
        public var bytes: Int
        public var sha256: String
        public var min: Double
        public var max: Double
        public var mean: Double
        public var std: Double
        public var l2Norm: Double
        /// Set when the .npy is stored as chunks of this many bytes under `<file>.chunks/`
        /// (their concatenation is the file) instead of one blob at `file`.
        public var chunkBytes: Int?

        public init(
            name: String, file: String, dtype: String, shape: [Int], bytes: Int, sha256: String,
            min: Double, max: Double, mean: Double, std: Double, l2Norm: Double, chunkBytes: Int? = nil
        ) {
            self.name = name
            self.file = file
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
            self.sha256 = sha256
            self.min = min
            self.max = max
            self.mean = mean
            self.std = std
            self.l2Norm = l2Norm
            self.chunkBytes = chunkBytes
        }

        /// The folder holding the chunks, relative to the model folder.
        public var chunkFolder: String { file + ".chunks" }

        /// Names of the chunk files in order: zero-padded so they sort as they concatenate.
        public var chunkNames: [String] {
            guard let chunkBytes, chunkBytes > 0 else { return [] }
            let count = Swift.max(1, (bytes + chunkBytes - 1) / chunkBytes)
            return (0..<count).map { Self.chunkName($0) }
        }

        public static func chunkName(_ index: Int) -> String {
            let digits = String(index)
            return String(repeating: "0", count: Swift.max(0, 6 - digits.count)) + digits
        }
    }

    // MARK: YAML

    public func yaml() -> String {
        var lineageMap: [(String, YAMLValue)] = [
            (
                "data",
                .list(
                    lineage.data.map { file in
                        var map: [(String, YAMLValue)] = [
                            ("path", .string(file.path)), ("role", .string(file.role)),
                            ("sha256", .string(file.sha256)),
                        ]
                        if let rows = file.rows { map.append(("rows", .int(rows))) }
                        return .map(map)
                    })
            )
        ]
        if let split = lineage.split { lineageMap.append(("split", split)) }
        var code: [(String, YAMLValue)] = [("commit", lineage.codeCommit.map(YAMLValue.string) ?? .null)]
        if let branch = lineage.codeBranch { code.append(("branch", .string(branch))) }
        code.append(("dirty", .bool(lineage.codeDirty)))
        lineageMap += [
            ("code", .map(code)),
            ("command", .string(lineage.command)),
            ("seed", lineage.seed.map { .int(Int(truncatingIfNeeded: $0)) } ?? .null),
            ("mv_version", .string(lineage.mvVersion)),
            ("started_at", .string(lineage.startedAt)),
            ("duration_seconds", .double(lineage.durationSeconds)),
            ("host", .string(lineage.host)),
        ]
        if let trainCommand = lineage.trainCommand { lineageMap.append(("train_command", .list(trainCommand.map(YAMLValue.string)))) }
        if let parent = lineage.parent { lineageMap.append(("parent", .string(parent))) }
        if let reason = lineage.reason { lineageMap.append(("reason", .string(reason))) }
        var root: [(String, YAMLValue)] = [
            ("format", .int(format)),
            ("name", .string(name)),
            ("version", .string(version)),
            ("task", .string(task)),
            ("algorithm", .string(algorithm)),
            ("hyperparameters", hyperparameters),
            ("features", .list(features.map { .map([("name", .string($0.name)), ("type", .string($0.type))]) })),
        ]
        if let target { root.append(("target", .map([("name", .string(target.name)), ("type", .string(target.type))]))) }
        root.append(("lineage", .map(lineageMap)))
        if let source { root.append(("source", source)) }
        if let schema { root.append(("schema", schema)) }
        if let serveCommand { root.append(("serve", .map([("command", .list(serveCommand.map { .string($0) }))]))) }
        root.append(
            (
                "params",
                .list(
                    params.map { record in
                        var fields: [(String, YAMLValue)] = [
                            ("name", .string(record.name)), ("file", .string(record.file)), ("dtype", .string(record.dtype)),
                            ("shape", .list(record.shape.map { .int($0) })), ("bytes", .int(record.bytes)),
                            ("sha256", .string(record.sha256)), ("min", .double(record.min)), ("max", .double(record.max)),
                            ("mean", .double(record.mean)), ("std", .double(record.std)), ("l2_norm", .double(record.l2Norm)),
                        ]
                        if let chunkBytes = record.chunkBytes { fields.append(("chunk_bytes", .int(chunkBytes))) }
                        return .map(fields)
                    })
            ))
        return "# mv model manifest: written by mv, edit with care (see docs/FORMAT.md)\n" + YAMLValue.map(root).yamlDocument()
    }

    public static func parse(_ text: String, source: String = Manifest.fileName) throws -> Manifest {
        let root = try YAMLValue.parse(text, source: source)
        let fields = FieldReader(value: root, file: source, path: "")
        let format = try fields.int("format")
        guard format <= formatVersion, format >= 1 else {
            throw ModelFormatError.unsupportedFormat(file: source, found: format, supported: formatVersion)
        }
        // Fields are read in document order so the first problem reported is the first in the file.
        let name = try fields.string("name")
        let version = try fields.string("version")
        let task = try fields.string("task")
        let algorithm = try fields.string("algorithm")
        let features = try fields.list("features").map { try Column(name: $0.string("name"), type: $0.string("type")) }
        let target = try fields.optionalChild("target").map { try Column(name: $0.string("name"), type: $0.string("type")) }
        let lineage = try fields.child("lineage")
        let code = try lineage.child("code")
        var manifest = Manifest(
            name: name, version: version, task: task, algorithm: algorithm,
            hyperparameters: root["hyperparameters"] ?? .map([]),
            features: features, target: target,
            lineage: Lineage(
                data: try lineage.list("data").map {
                    DataFile(
                        path: try $0.string("path"), role: try $0.string("role"), sha256: try $0.string("sha256"),
                        rows: try $0.optionalInt("rows"))
                },
                split: lineage.value["split"],
                codeCommit: try code.optionalString("commit"),
                codeBranch: try code.optionalString("branch"),
                codeDirty: try code.bool("dirty"),
                command: try lineage.string("command"),
                seed: try lineage.optionalInt("seed").map { UInt64(truncatingIfNeeded: $0) },
                mvVersion: try lineage.string("mv_version"),
                startedAt: try lineage.string("started_at"),
                durationSeconds: try lineage.double("duration_seconds"),
                host: try lineage.string("host")),
            params: try fields.list("params").enumerated().map { position, item in
                try checkTensorFile(try item.string("file"), field: "params[\(position)].file", source: source)
                let record = item
                return TensorRecord(
                    name: try record.string("name"), file: try record.string("file"), dtype: try record.string("dtype"),
                    shape: try record.intList("shape"), bytes: try record.int("bytes"), sha256: try record.string("sha256"),
                    min: try record.double("min"), max: try record.double("max"), mean: try record.double("mean"),
                    std: try record.double("std"), l2Norm: try record.double("l2_norm"),
                    chunkBytes: try record.optionalPositiveInt("chunk_bytes"))
            })
        manifest.format = format
        if case .list(let items)? = lineage.value["train_command"] {
            manifest.lineage.trainCommand = try items.map { item in
                guard case .string(let text) = item else {
                    throw ModelFormatError.invalidField(file: source, field: "lineage.train_command", problem: "must be a list of strings")
                }
                return text
            }
        }
        manifest.lineage.parent = try lineage.optionalString("parent")
        manifest.lineage.reason = try lineage.optionalString("reason")
        manifest.source = root["source"]
        manifest.schema = root["schema"]
        if let serve = root["serve"] {
            guard case .map(let pairs) = serve, let command = pairs.first(where: { $0.0 == "command" })?.1,
                case .list(let items) = command, !items.isEmpty
            else {
                throw ModelFormatError.invalidField(file: source, field: "serve", problem: "must be {command: [program, argument, …]}")
            }
            manifest.serveCommand = try items.map { item in
                guard case .string(let text) = item, !text.isEmpty else {
                    throw ModelFormatError.invalidField(file: source, field: "serve.command", problem: "must hold non-empty strings")
                }
                return text
            }
        }
        return manifest
    }
}

/// A tensor's file is one .npy directly inside params/: mv writes files at these paths, so
/// a manifest edited to say '../../x.npy' must not make it write outside the model folder.
private func checkTensorFile(_ path: String, field: String, source: String) throws {
    let name = path.hasPrefix("params/") ? String(path.dropFirst("params/".count)) : ""
    guard !name.isEmpty, !name.hasPrefix("."), !name.contains("/"), !name.contains("\\"), name.hasSuffix(".npy") else {
        throw ModelFormatError.invalidField(
            file: source, field: field, problem: "must be params/<name>.npy, a file directly inside params/")
    }
}

/// Typed access to a YAML map with errors that name the file and the dotted field path.
struct FieldReader {
    let value: YAMLValue
    let file: String
    let path: String

    private func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func required(_ key: String) throws -> YAMLValue {
        guard case .map = value else { throw ModelFormatError.invalidField(file: file, field: path, problem: "must be a mapping") }
        guard let item = value[key], item != .null else { throw ModelFormatError.missingField(file: file, field: name(key)) }
        return item
    }

    func string(_ key: String) throws -> String {
        guard let text = try required(key).stringValue else {
            throw ModelFormatError.invalidField(file: file, field: name(key), problem: "must be text")
        }
        return text
    }

    func optionalString(_ key: String) throws -> String? {
        guard let item = value[key], item != .null else { return nil }
        return try string(key)
    }

    func int(_ key: String) throws -> Int {
        guard let number = try required(key).intValue else {
            throw ModelFormatError.invalidField(file: file, field: name(key), problem: "must be an integer")
        }
        return number
    }

    func optionalPositiveInt(_ key: String) throws -> Int? {
        guard let value = try optionalInt(key) else { return nil }
        guard value > 0 else {
            throw ModelFormatError.invalidField(file: file, field: name(key), problem: "must be a positive number of bytes")
        }
        return value
    }

    func optionalInt(_ key: String) throws -> Int? {
        guard let item = value[key], item != .null else { return nil }
        return try int(key)
    }

    func double(_ key: String) throws -> Double {
        guard let number = try required(key).doubleValue else {
            throw ModelFormatError.invalidField(file: file, field: name(key), problem: "must be a number")
        }
        return number
    }

    func bool(_ key: String) throws -> Bool {
        guard case .bool(let flag) = try required(key) else {
            throw ModelFormatError.invalidField(file: file, field: name(key), problem: "must be true or false")
        }
        return flag
    }

    func intList(_ key: String) throws -> [Int] {
        guard case .list(let items) = try required(key) else {
            throw ModelFormatError.invalidField(file: file, field: name(key), problem: "must be a list of integers")
        }
        return try items.map { item in
            guard let number = item.intValue, number >= 0 else {
                throw ModelFormatError.invalidField(file: file, field: name(key), problem: "must be a list of non-negative integers")
            }
            return number
        }
    }

    /// A list of finite numbers (written in one line, as YAMLValue does for numbers).
    func finiteNumbers(_ key: String) throws -> [Double] {
        guard case .list(let items)? = value[key] else {
            throw ModelFormatError.invalidField(file: file, field: name(key), problem: "must be a list of numbers")
        }
        return try items.map {
            guard let number = $0.doubleValue, number.isFinite else {
                throw ModelFormatError.invalidField(file: file, field: name(key), problem: "must be a list of numbers")
            }
            return number
        }
    }

    func child(_ key: String) throws -> FieldReader {
        FieldReader(value: try required(key), file: file, path: name(key))
    }

    func optionalChild(_ key: String) throws -> FieldReader? {
        guard let item = value[key], item != .null else { return nil }
        return FieldReader(value: item, file: file, path: name(key))
    }

    func list(_ key: String) throws -> [FieldReader] {
        guard let item = value[key], item != .null else { return [] }
        guard case .list(let items) = item else {
            throw ModelFormatError.invalidField(file: file, field: name(key), problem: "must be a list")
        }
        return items.enumerated().map { FieldReader(value: $1, file: file, path: "\(name(key))[\($0)]") }
    }
}
