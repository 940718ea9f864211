import Foundation
import ModelFormat
import TensorStore

/// `.mv.yaml` at the repository root: where models live, which stages exist, the metric
/// gates of each stage and the direction of custom metrics. Parsed strictly: an unknown
/// key, an unknown metric or a malformed rule is an error naming its line, never a
/// silently passing gate.
public struct RegistryConfig: Sendable {
    public static let fileName = ".mv.yaml"
    public static let formatVersion = 1

    public var modelsRoot: String = "models"
    public var stages: [String] = ["staging", "production"]
    public var gates: [GateBlock] = []
    /// Thresholds `mv monitor` holds models to (docs/MONITORING.md).
    public var monitoring: [MonitoringBlock] = []
    /// Custom metrics and whether higher is better.
    public var metricDirections: [String: Bool] = [:]
    /// Where new tensors' bytes go: Git blobs, or Git LFS objects (docs/REMOTES.md).
    public var storage: TensorStorage = .git

    public init() {}

    public func yaml() -> String {
        "# mv configuration (see docs/FORMAT.md; metric gates: docs/GATES.md)\n"
            + YAMLValue.map(
                [
                    ("format", .int(RegistryConfig.formatVersion)),
                    ("models_root", .string(modelsRoot)),
                    ("stages", .list(stages.map(YAMLValue.string))),
                ] + storageSetting
            ).yamlDocument()
    }

    private var storageSetting: [(String, YAMLValue)] {
        storage == .git ? [] : [("storage", .string(storage.rawValue))]
    }

    public static func parse(_ text: String) throws -> RegistryConfig {
        let root: YAMLTree?
        do {
            root = try YAMLTree.parse(text, source: fileName)
        } catch {
            throw MVError("\(error)", hint: "fix \(fileName), or delete it and run 'mv init'")
        }
        var config = RegistryConfig()
        guard let root, !root.isNull else { return config }
        guard case .map(let pairs) = root.kind else { throw MVError("\(fileName):\(root.line): expected a mapping of settings") }
        var gatesNode: YAMLTree?
        var monitoringNode: YAMLTree?
        for (key, line, value) in pairs {
            switch key {
            case "format":
                guard let format = value.scalar.flatMap(Int.init), format >= 1 else {
                    throw MVError("\(fileName):\(line): 'format' must be a positive integer")
                }
                guard format <= formatVersion else {
                    throw MVError("\(fileName):\(line): format \(format) is newer than this mv reads (\(formatVersion)); upgrade mv")
                }
            case "models_root":
                guard let path = value.scalar, isSafeRelativePath(path) else {
                    throw MVError(
                        "\(fileName):\(line): 'models_root' must be a relative folder inside the repository without '..', e.g. models")
                }
                config.modelsRoot = path.hasSuffix("/") ? String(path.dropLast()) : path
            case "stages":
                guard case .list(let items) = value.kind else { throw MVError("\(fileName):\(line): 'stages' must be a list of names") }
                config.stages = try items.map { item in
                    guard let name = item.scalar, (try? ModelName(name)) != nil, name != GateBlock.commitStage else {
                        throw MVError(
                            "\(fileName):\(item.line): stage '\(item.scalar ?? "?")' is not a valid name (\(ModelName.rule); 'commit' is reserved)"
                        )
                    }
                    return name
                }
            case "metrics":
                guard case .map(let metrics) = value.kind else {
                    throw MVError("\(fileName):\(line): 'metrics' must map custom metric names to 'higher' or 'lower' (which is better)")
                }
                for (name, metricLine, direction) in metrics {
                    guard (try? ModelName(name)) != nil else { throw MVError("\(fileName):\(metricLine): invalid metric name '\(name)'") }
                    switch direction.scalar {
                    case "higher": config.metricDirections[name] = true
                    case "lower": config.metricDirections[name] = false
                    default: throw MVError("\(fileName):\(metricLine): metric '\(name)' must be 'higher' or 'lower' (which is better)")
                    }
                }
            case "storage":
                guard let name = value.scalar, let storage = TensorStorage(rawValue: name) else {
                    throw MVError("\(fileName):\(line): 'storage' must be 'git' (tensors as Git blobs) or 'lfs' (Git LFS objects)")
                }
                config.storage = storage
            case "gates":
                gatesNode = value
            case "monitoring":
                monitoringNode = value
            default:
                throw MVError(
                    "\(fileName):\(line): unknown setting '\(key)' (known: format, models_root, stages, storage, metrics, gates, monitoring)"
                )
            }
        }
        // Gates last: their rules name stages and metrics declared above, in any order.
        if let gatesNode { config.gates = try GatePolicyParser(config: config).parse(gatesNode) }
        if let monitoringNode { config.monitoring = try MonitoringPolicyParser(config: config).parse(monitoringNode) }
        return config
    }

    static func isSafeRelativePath(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return !path.isEmpty && !path.hasPrefix("/") && !parts.contains("..") && !parts.contains(".")
            && !parts.dropLast().contains("") && !parts.contains(".git")
    }
}
