import Foundation

/// stdout for results, stderr for errors and progress, as git does.
enum Terminal {
    static func error(_ message: String, hint: String?) {
        var text = "mv: error: \(message)\n"
        if let hint { text += "hint: \(hint)\n" }
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// An error no layer below turned into a `UserError`, as one line: a Foundation file
    /// error names its file and the system's reason instead of its error domain and code.
    static func describe(_ error: Error) -> String {
        let object = error as NSError
        if object.domain == NSCocoaErrorDomain, let path = object.userInfo[NSFilePathErrorKey] as? String {
            let underlying = object.userInfo[NSUnderlyingErrorKey] as? NSError
            let reason = underlying.flatMap { $0.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32($0.code))) : nil }
            return "'\(path)': \(reason ?? object.localizedDescription)"
        }
        return String(describing: error).replacingOccurrences(of: "\n", with: " ")
    }

    /// A line about something mv did that the user did not ask for (`mv: …`, on stderr).
    static func notice(_ message: String) {
        FileHandle.standardError.write(Data("mv: \(message)\n".utf8))
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
