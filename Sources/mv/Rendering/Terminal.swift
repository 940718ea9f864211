import Foundation

/// stdout for results, stderr for errors and progress, as git does.
enum Terminal {
    static func error(_ message: String, hint: String?) {
        var text = "mv: error: \(message)\n"
        if let hint { text += "hint: \(hint)\n" }
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func json(_ value: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    static func table(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        let widths = (0..<first.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.joined(separator: "\n")
    }

    static func date(_ date: Date?) -> String {
        guard let date else { return "-" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    static func isoDate(_ date: Date?) -> Any {
        guard let date else { return NSNull() }
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }

    static func metrics(_ metrics: [(name: String, value: Double)]) -> String {
        metrics.isEmpty ? "-" : metrics.map { "\($0.name) \(String(format: "%.4g", $0.value))" }.joined(separator: ", ")
    }

    /// Metrics as an indented two-column table, one per line.
    static func metricTable(_ metrics: [(name: String, value: Double)]) -> String {
        table(metrics.map { ["  \($0.name)", String(format: "%.6g", $0.value)] })
    }

    static func metricsObject(_ metrics: [(name: String, value: Double)]) -> [String: Double] {
        Dictionary(metrics.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
    }
}
