import Foundation
import Yams

/// A parsed YAML document that remembers the line of every node, for configuration files
/// whose errors must name the line to fix.
public struct YAMLTree: Sendable {
    public indirect enum Kind: Sendable {
        case scalar(String, quoted: Bool)
        case map([(key: String, keyLine: Int, value: YAMLTree)])
        case list([YAMLTree])
        case null
    }

    /// 1-based line of the node.
    public let line: Int
    public let kind: Kind

    public static func parse(_ text: String, source: String) throws -> YAMLTree? {
        let node: Node?
        do {
            // Plain scalars are typed by `resolvePlain`/the caller, so Yams' own
            // resolution (a regular expression per scalar) is skipped.
            node = try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            throw ModelFormatError.malformedYAML(file: source, detail: YAMLValue.describeError(error))
        }
        return node.map(convert)
    }

    private static func convert(_ node: Node) -> YAMLTree {
        let line = (node.mark?.line ?? 0)
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain, NSNull.construct(from: scalar) != nil { return YAMLTree(line: line, kind: .null) }
            return YAMLTree(line: line, kind: .scalar(scalar.string, quoted: scalar.style != .plain))
        case .mapping(let mapping):
            return YAMLTree(
                line: line, kind: .map(mapping.map { key, value in (key.string ?? "\(key)", key.mark?.line ?? line, convert(value)) }))
        case .sequence(let sequence):
            return YAMLTree(line: line, kind: .list(sequence.map(convert)))
        case .alias(let alias):
            return YAMLTree(line: line, kind: .scalar(alias.anchor.rawValue, quoted: false))
        }
    }

    public var scalar: String? {
        if case .scalar(let text, _) = kind { return text }
        return nil
    }

    public var isNull: Bool {
        if case .null = kind { return true }
        return false
    }
}
