import Foundation
import Yams

/// A YAML value with ordered mappings, so mv's files come out in one stable order and a
/// `git diff` between two versions shows only what changed.
public indirect enum YAMLValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null
    case list([YAMLValue])
    case map([(String, YAMLValue)])

    public static func == (lhs: YAMLValue, rhs: YAMLValue) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null): return true
        case (.list(let a), .list(let b)): return a == b
        case (.map(let a), .map(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> YAMLValue? {
        guard case .map(let pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    public var stringValue: String? {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return YAMLValue.format(d)
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }

    public var intValue: Int? {
        if case .int(let i) = self { return i }
        return nil
    }

    /// The value as Foundation JSON objects (for JSONSerialization and Codable).
    public var jsonObject: Any {
        switch self {
        case .string(let s): return s
        case .int(let i): return i
        case .double(let d): return d.isFinite ? d : YAMLValue.format(d) as Any
        case .bool(let b): return b
        case .null: return NSNull()
        case .list(let items): return items.map(\.jsonObject)
        case .map(let pairs): return Dictionary(pairs.map { ($0.0, $0.1.jsonObject) }, uniquingKeysWith: { $1 })
        }
    }

    /// Encodes a Codable value as YAML (through JSON, which is YAML), mapping keys sorted so
    /// the text is stable.
    public static func encode<T: Encodable>(_ value: T) throws -> YAMLValue {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try parse(String(decoding: encoder.encode(value), as: UTF8.self), source: "\(T.self)")
    }

    /// Decodes a Codable value from YAML (through JSON).
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: JSONSerialization.data(withJSONObject: jsonObject))
    }

    /// The text of this value as a YAML document.
    public func yamlDocument() -> String {
        var out = ""
        YAMLValue.emit(self, indent: 0, into: &out, inList: false)
        if !out.hasSuffix("\n") { out += "\n" }
        return out
    }

    /// Parses a YAML document; `source` names the file in error messages.
    public static func parse(_ text: String, source: String) throws -> YAMLValue {
        let node: Node?
        do {
            // Plain scalars are typed by `resolvePlain`/the caller, so Yams' own
            // resolution (a regular expression per scalar) is skipped.
            node = try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            throw ModelFormatError.malformedYAML(file: source, detail: YAMLValue.describeError(error))
        } catch {
            throw ModelFormatError.malformedYAML(file: source, detail: "\(error)")
        }
        guard let node else { return .null }
        return convert(node)
    }

    static func describeError(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return "line \(mark.line): \(problem)"
        case .composer(_, let problem, let mark, _):
            return "line \(mark.line): \(problem)"
        default:
            return "\(error)".replacingOccurrences(of: "\n", with: " ")
        }
    }

    private static func convert(_ node: Node) -> YAMLValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style != .plain { return .string(scalar.string) }
            return resolvePlain(scalar.string)
        case .mapping(let mapping):
            return .map(mapping.map { key, value in (key.string ?? "\(key)", convert(value)) })
        case .sequence(let sequence):
            return .list(sequence.map(convert))
        case .alias(let alias):
            return .string(alias.anchor.rawValue)
        }
    }

    /// YAML 1.2 core-schema resolution of a plain scalar. Done here rather than by Yams'
    /// constructors, which also accept YAML 1.1 forms such as base-60 integers
    /// (`8888:8444`) and trap on their overflow (found by fuzzing).
    static func resolvePlain(_ text: String) -> YAMLValue {
        switch text {
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case "", "~", "null", "Null", "NULL": return .null
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: break
        }
        let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
        guard let first = digits.first, first.isASCII, first.isNumber || first == "." else { return .string(text) }
        if digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
            if let value = Int(text) { return .int(value) }
            return Double(text).map(YAMLValue.double) ?? .string(text)
        }
        let allowed = digits.allSatisfy { $0.isASCII && ($0.isNumber || ".eE+-".contains($0)) }
        if allowed, digits.contains(where: \.isNumber), let value = Double(text) { return .double(value) }
        return .string(text)
    }

    // MARK: Emission

    /// Doubles always carry a '.' or an exponent with a sign, so YAML 1.1 readers (PyYAML,
    /// and through it DVC) see a float and not a string.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return ".nan" }
        if value.isInfinite { return value < 0 ? "-.inf" : ".inf" }
        var text = "\(value)"
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            var mantissa = String(text[..<e])
            var exponent = String(text[text.index(after: e)...])
            if !mantissa.contains(".") { mantissa += ".0" }
            if !exponent.hasPrefix("-") && !exponent.hasPrefix("+") { exponent = "+" + exponent }
            text = mantissa + "e" + exponent
        } else if !text.contains(".") {
            text += ".0"
        }
        return text
    }

    private static let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "~", "y", "n", ""]

    /// ASCII letters, digits and `_-./@+ `: the bytes a plain scalar may hold here.
    private static let plainBytes: [Bool] = (0..<256).map { byte in
        let scalar = Unicode.Scalar(UInt8(byte))
        return scalar.properties.isASCIIHexDigit || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
            || "_-./@+ ".unicodeScalars.contains(scalar)
    }

    /// Whether `string` can be written unquoted and still read back as this string (not a
    /// number, boolean or null, in YAML 1.1 or 1.2). Checked byte by byte: a manifest has a
    /// few hundred scalars, and Foundation's character sets made this most of its emission.
    private static func isPlainSafe(_ string: String) -> Bool {
        let utf8 = string.utf8
        guard let first = utf8.first, let last = utf8.last else { return false }
        for byte in utf8 where !plainBytes[Int(byte)] { return false }
        if first == UInt8(ascii: "-") || first == UInt8(ascii: " ") || last == UInt8(ascii: " ")
            || first == UInt8(ascii: "@") || first == UInt8(ascii: ".")
        {
            return false
        }
        if utf8.count <= 5 && reserved.contains(string.lowercased()) { return false }
        return Int(string) == nil && Double(string) == nil
    }

    static func scalarText(_ string: String) -> String {
        if isPlainSafe(string) { return string }
        var escaped = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            case "\r": escaped += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    escaped += String(format: "\\x%02X", scalar.value)
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped + "\""
    }

    private func inlineText() -> String? {
        switch self {
        case .string(let s): return YAMLValue.scalarText(s)
        case .int(let i): return String(i)
        case .double(let d): return YAMLValue.format(d)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .list(let items):
            // Short lists of scalars (shapes) read best on one line.
            if items.isEmpty { return "[]" }
            let parts = items.compactMap { item -> String? in
                if case .list = item { return nil }
                if case .map = item { return nil }
                return item.inlineText()
            }
            // Lists of numbers (quantiles, counts) stay on one line at any length.
            let numbers = items.allSatisfy { item in
                switch item {
                case .int, .double: return true
                default: return false
                }
            }
            return parts.count == items.count && (items.count <= 16 || numbers) ? "[" + parts.joined(separator: ", ") + "]" : nil
        case .map(let pairs):
            return pairs.isEmpty ? "{}" : nil
        }
    }

    private static func emit(_ value: YAMLValue, indent: Int, into out: inout String, inList: Bool) {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .map(let pairs) where !pairs.isEmpty:
            for (index, (key, item)) in pairs.enumerated() {
                let prefix = (inList && index == 0) ? "" : pad
                let keyText = scalarText(key)
                if let inline = item.inlineText() {
                    out += "\(prefix)\(keyText): \(inline)\n"
                } else {
                    out += "\(prefix)\(keyText):\n"
                    let childIndent = { if case .list = item { return indent } else { return indent + 2 } }()
                    emit(item, indent: childIndent, into: &out, inList: false)
                }
            }
        case .list(let items) where value.inlineText() == nil:
            for (index, item) in items.enumerated() {
                // Inside a list item, the first line follows the outer "- " on its line.
                let prefix = (inList && index == 0) ? "" : pad
                if let inline = item.inlineText() {
                    out += "\(prefix)- \(inline)\n"
                } else {
                    out += "\(prefix)- "
                    emit(item, indent: indent + 2, into: &out, inList: true)
                }
            }
        default:
            out += pad + (value.inlineText() ?? "null") + "\n"
        }
    }
}
