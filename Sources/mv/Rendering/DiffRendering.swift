import Foundation
import ModelFormat
import Registry

/// The three faces of `mv diff`: a terminal report (optionally colored by whether each
/// metric got better or worse), Markdown for a pull-request comment, and JSON.
struct DiffReport: Rendered {
    enum Form {
        case text(color: Bool)
        case markdown
    }

    let diff: VersionDiff
    let form: Form

    var text: String {
        switch form {
        case .text(let color): diff.text(color: color)
        case .markdown: diff.markdown()
        }
    }

    var json: Any { diff.jsonObject() }
}

extension VersionDiff {
    func text(color: Bool) -> String {
        func paint(_ text: String, _ improved: Bool?) -> String {
            guard color, let improved else { return text }
            return (improved ? "\u{1B}[32m" : "\u{1B}[31m") + text + "\u{1B}[0m"
        }
        var lines = ["mv diff \(old) → \(new)", ""]
        let hyper = hyperparameters.filter { $0.old != $0.new }
        lines.append("hyperparameters" + (hyper.isEmpty ? ": unchanged" : ""))
        lines += hyper.map { "  \($0.name): \($0.old ?? "(none)") → \($0.new ?? "(none)")" }
        lines.append("")
        lines.append("metrics" + (metrics.isEmpty ? ": none recorded" : ""))
        for report in orderedReports {
            lines.append("  \(report)")
            let rows = metrics.filter { $0.report == report }.map { delta -> [String] in
                [
                    "    \(delta.metric)", Self.number(delta.old), "→", Self.number(delta.new), Self.signed(delta.absolute),
                    delta.relative.map { "(\(Self.percent($0)))" } ?? "",
                    delta.improved.map { $0 ? "better" : "worse" } ?? "",
                ]
            }
            for (row, delta) in zip(Self.align(rows), metrics.filter { $0.report == report }) {
                lines.append(paint(row, delta.improved))
            }
        }
        lines.append("")
        lines.append("tensors")
        lines += Self.align(
            tensors.map { delta in
                var row = ["  \(delta.name)", delta.status.rawValue]
                switch delta.status {
                case .changed:
                    row += [
                        "max|Δ| \(Self.number(delta.maxAbsoluteChange))", "rel L2 \(Self.number(delta.relativeL2Change))",
                        "cos \(delta.cosineSimilarity.map { String(format: "%.6f", $0) } ?? "-")",
                    ]
                case .dtypeChanged, .shapeChanged:
                    row += [
                        "\(delta.old?.dtype ?? "") \(Self.shape(delta.old)) → \(delta.new?.dtype ?? "") \(Self.shape(delta.new))", "", "",
                    ]
                case .added:
                    row += ["\(delta.new?.dtype ?? "") \(Self.shape(delta.new))", "", ""]
                case .removed:
                    row += ["\(delta.old?.dtype ?? "") \(Self.shape(delta.old))", "", ""]
                case .unchanged:
                    row += ["same sha256", "", ""]
                }
                return row
            })
        lines.append("")
        let changedLineage = lineage.filter { $0.old != $0.new }
        lines.append("lineage" + (changedLineage.isEmpty ? ": unchanged" : ""))
        lines += changedLineage.map { "  \($0.name): \($0.old ?? "(none)") → \($0.new ?? "(none)")" }
        return lines.joined(separator: "\n") + "\n"
    }

    func markdown() -> String {
        var lines = ["### `\(old)` → `\(new)`", ""]
        if !metrics.isEmpty {
            lines += ["| evaluation | metric | \(old) | \(new) | Δ | Δ% | |", "|---|---|---:|---:|---:|---:|---|"]
            lines += metrics.map { delta in
                let verdict = delta.improved.map { $0 ? "✅ better" : "❌ worse" } ?? ""
                return
                    "| \(delta.report) | \(delta.metric) | \(Self.number(delta.old)) | \(Self.number(delta.new)) | \(Self.signed(delta.absolute)) | \(delta.relative.map(Self.percent) ?? "") | \(verdict) |"
            }
            lines.append("")
        }
        let hyper = hyperparameters.filter { $0.old != $0.new }
        if !hyper.isEmpty {
            lines += ["| hyperparameter | \(old) | \(new) |", "|---|---|---|"]
            lines += hyper.map { "| \($0.name) | \($0.old ?? "—") | \($0.new ?? "—") |" }
            lines.append("")
        }
        lines += ["| tensor | change | max \\|Δ\\| | rel. L2 | cosine |", "|---|---|---:|---:|---:|"]
        lines += tensors.map { delta in
            "| `\(delta.name)` | \(delta.status.rawValue) | \(Self.number(delta.maxAbsoluteChange)) | \(Self.number(delta.relativeL2Change)) | \(delta.cosineSimilarity.map { String(format: "%.6f", $0) } ?? "") |"
        }
        let changedLineage = lineage.filter { $0.old != $0.new }
        if !changedLineage.isEmpty {
            lines += ["", "| lineage | \(old) | \(new) |", "|---|---|---|"]
            lines += changedLineage.map { "| \($0.name) | \($0.old ?? "—") | \($0.new ?? "—") |" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func jsonObject() -> [String: Any] {
        func optional(_ value: Double?) -> Any { value.map { $0 as Any } ?? NSNull() }
        func change(_ item: Change) -> [String: Any] {
            ["name": item.name, "old": item.old ?? NSNull(), "new": item.new ?? NSNull(), "changed": item.old != item.new]
        }
        return [
            "old": old, "new": new,
            "hyperparameters": hyperparameters.map(change),
            "metrics": metrics.map { delta in
                [
                    "evaluation": delta.report, "metric": delta.metric, "old": optional(delta.old), "new": optional(delta.new),
                    "delta": optional(delta.absolute), "relative_delta": optional(delta.relative),
                    "higher_is_better": delta.higherIsBetter.map { $0 as Any } ?? NSNull(),
                    "improved": delta.improved.map { $0 as Any } ?? NSNull(),
                ] as [String: Any]
            },
            "tensors": tensors.map { delta in
                [
                    "name": delta.name, "status": delta.status.rawValue,
                    "old": delta.old.map { ["dtype": $0.dtype, "shape": $0.shape, "sha256": $0.sha256] as Any } ?? NSNull(),
                    "new": delta.new.map { ["dtype": $0.dtype, "shape": $0.shape, "sha256": $0.sha256] as Any } ?? NSNull(),
                    "max_abs_change": optional(delta.maxAbsoluteChange), "relative_l2_change": optional(delta.relativeL2Change),
                    "cosine_similarity": optional(delta.cosineSimilarity),
                ] as [String: Any]
            },
            "lineage": lineage.map(change),
        ]
    }

    private var orderedReports: [String] {
        var names: [String] = []
        for delta in metrics where !names.contains(delta.report) { names.append(delta.report) }
        return names
    }

    static func number(_ value: Double?) -> String {
        guard let value else { return "-" }
        return String(format: "%.6g", value)
    }

    static func signed(_ value: Double?) -> String {
        guard let value else { return "" }
        return (value >= 0 ? "+" : "") + String(format: "%.4g", value)
    }

    static func percent(_ value: Double) -> String { (value >= 0 ? "+" : "") + String(format: "%.2f%%", value * 100) }

    static func shape(_ record: Manifest.TensorRecord?) -> String {
        "[" + (record?.shape.map(String.init).joined(separator: ", ") ?? "") + "]"
    }

    static func align(_ rows: [[String]]) -> [String] {
        guard let width = rows.map(\.count).max() else { return [] }
        let widths = (0..<width).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
    }
}
