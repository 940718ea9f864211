import Foundation
import ModelFormat

/// `.mv.yaml` at the repository root: where models live and which stages exist. Parsed
/// strictly: an unknown key is an error naming it, never silently ignored.
public struct RegistryConfig: Sendable, Equatable {
    public static let fileName = ".mv.yaml"
    public static let formatVersion = 1

    public var modelsRoot: String = "models"
    public var stages: [String] = ["staging", "production"]

    public init() {}

    public func yaml() -> String {
        "# mv configuration (see docs/FORMAT.md)\n" + YAMLValue.map([
            ("format", .int(RegistryConfig.formatVersion)),
            ("models_root", .string(modelsRoot)),
            ("stages", .list(stages.map(YAMLValue.string))),
        ]).yamlDocument()
    }

    public static func parse(_ text: String) throws -> RegistryConfig {
        let root: YAMLValue
        do {
            root = try YAMLValue.parse(text, source: fileName)
        } catch {
            throw MVError("\(error)", hint: "fix \(fileName) or delete it and run 'mv init'")
        }
        var config = RegistryConfig()
        if root == .null { return config }
        guard case let .map(pairs) = root else { throw MVError("'\(fileName)' must be a mapping of settings") }
        for (key, value) in pairs {
            switch key {
            case "format":
                guard let format = value.intValue, format >= 1 else { throw MVError("'\(fileName)': 'format' must be a positive integer") }
                guard format <= formatVersion else {
                    throw MVError("'\(fileName)' uses format \(format), but this mv reads format \(formatVersion); upgrade mv")
                }
            case "models_root":
                guard case let .string(path) = value, isSafeRelativePath(path) else {
                    throw MVError("'\(fileName)': 'models_root' must be a relative folder inside the repository without '..', e.g. models")
                }
                config.modelsRoot = path.hasSuffix("/") ? String(path.dropLast()) : path
            case "stages":
                guard case let .list(items) = value else { throw MVError("'\(fileName)': 'stages' must be a list of names") }
                config.stages = try items.map { item in
                    guard case let .string(name) = item, (try? ModelName(name)) != nil else {
                        throw MVError("'\(fileName)': stage '\(item.stringValue ?? "?")' is not a valid name (\(ModelName.rule))")
                    }
                    return name
                }
            default:
                throw MVError("'\(fileName)': unknown setting '\(key)' (known: format, models_root, stages)")
            }
        }
        return config
    }

    static func isSafeRelativePath(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return !path.isEmpty && !path.hasPrefix("/") && !parts.contains("..") && !parts.contains(".")
            && !parts.dropLast().contains("") && !parts.contains(".git")
    }
}
