import Foundation
import ModelFormat

/// The `Key: value` lines that end mv's commit and tag messages (`Model:`, `Model-Version:`,
/// `Metric-rmse:`, `Stage:`, `Reason:`…): written and read here only, so `git log
/// --format='%(trailers)'` and mv agree on them (docs/TAGS.md lists every key).
///
/// mv reads them itself rather than through libgit2's `git_message_trailers` (or git's
/// `interpret-trailers`): those accept only letters, digits and '-' in a key, and drop the
/// whole block when one line breaks that rule — and metric keys have always carried the
/// metric's name, underscores included (`Metric-f1_macro`, `Metric-log_loss`), in every
/// version tag written so far. Here a key is any run of characters without a space before
/// the first colon, on any line, and the last of a repeated key wins when one value is asked.
public struct Trailers: Sendable, Equatable {
    public private(set) var fields: [Field]

    /// One `Key: value` line.
    public struct Field: Sendable, Equatable {
        public let key: String
        public let value: String
    }

    public init() { fields = [] }

    /// Adds a line; line breaks in `value` become spaces (a trailer is one line).
    public mutating func append(_ key: String, _ value: String) {
        fields.append(Field(key: key, value: value.replacingOccurrences(of: "\n", with: " ")))
    }

    /// Adds `Metric-<name>: <value>` for each metric, values written as in YAML.
    public mutating func append(metrics: [(name: String, value: Double)]) {
        for metric in metrics { append(Self.metricPrefix + metric.name, YAMLValue.format(metric.value)) }
    }

    public mutating func append(_ other: Trailers) {
        fields += other.fields
    }

    /// The lines, each ending in a newline.
    public var text: String { fields.map { "\($0.key): \($0.value)\n" }.joined() }

    /// The value of the last line with `key`.
    public subscript(key: String) -> String? { fields.last { $0.key == key }?.value }

    /// The `Metric-<name>` lines whose value is a number, in order.
    public var metrics: [(name: String, value: Double)] {
        fields.compactMap { field in
            guard field.key.hasPrefix(Self.metricPrefix), let value = Double(field.value) else { return nil }
            return (String(field.key.dropFirst(Self.metricPrefix.count)), value)
        }
    }

    static let metricPrefix = "Metric-"

    /// The trailer lines of a commit or tag message.
    public static func parse(_ message: String) -> Trailers {
        var trailers = Trailers()
        for line in message.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":"), !line[..<colon].contains(" "), colon != line.startIndex else { continue }
            trailers.fields.append(
                Field(key: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return trailers
    }
}
