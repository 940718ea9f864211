import Foundation
import Registry

/// `mv diff A B --html`: the comparison of two versions as one self-contained page — the
/// metrics of both side by side, a bar chart per metric, the relative change of every
/// tensor as a heatmap, and the hyperparameter and lineage changes as tables.
public enum DiffPage {
    public static func html(_ diff: VersionDiff, generated: Date = Date()) -> String {
        var body = ""
        let changed = diff.hyperparameters.filter { $0.old != $0.new }
        body += "<h2>Hyperparameters</h2>"
        body += changed.isEmpty ? "<p class=\"note\">No hyperparameter changed.</p>" : table(changed, old: diff.old, new: diff.new)

        body += "<h2>Metrics</h2>"
        if diff.metrics.isEmpty {
            body += "<p class=\"note\">Neither version has evaluation reports.</p>"
        } else {
            body +=
                "<table><tr><th>report</th><th>metric</th><th>\(SVG.escape(diff.old))</th><th>\(SVG.escape(diff.new))</th><th>change</th></tr>"
            for metric in diff.metrics {
                let verdict = metric.improved.map { $0 ? " (better)" : " (worse)" } ?? ""
                body += "<tr><td>\(SVG.escape(metric.report))</td><td>\(SVG.escape(metric.metric))</td>"
                body += "<td>\(number(metric.old))</td><td>\(number(metric.new))</td>"
                body += "<td>\(metric.absolute.map { String(format: "%+.4g", $0) } ?? "")\(verdict)</td></tr>"
            }
            body += "</table><div class=\"charts\">"
            for metric in diff.metrics {
                let chart = BarChart(
                    title: "\(metric.report): \(metric.metric)", yLabel: metric.metric,
                    bars: [(diff.old, metric.old ?? .nan), (diff.new, metric.new ?? .nan)])
                body += chart.svg()
            }
            body += "</div>"
        }

        body += "<h2>Tensors</h2>"
        let counts = Dictionary(grouping: diff.tensors, by: \.status).mapValues(\.count)
        body +=
            "<p class=\"note\">"
            + counts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ") + ".</p>"
        if let chart = TensorChanges.heatmap([("\(diff.old)→\(diff.new)", diff.tensors)], title: "Relative change of each tensor") {
            body += "<p class=\"note\">‖new − old‖ / ‖old‖ per tensor; crossed: added, removed or reshaped.\(chart.note)</p>" + chart.svg
        }
        let moved = diff.tensors.filter { $0.status != .unchanged }
        if !moved.isEmpty {
            body +=
                "<table><tr><th>tensor</th><th>status</th><th>shape</th><th>relative L2 change</th><th>max |change|</th><th>cosine</th></tr>"
            for tensor in moved {
                let shape = [tensor.old, tensor.new].map { $0.map { "[" + $0.shape.map(String.init).joined(separator: ", ") + "]" } ?? "–" }
                body += "<tr><td><code>\(SVG.escape(tensor.name))</code></td><td>\(tensor.status.rawValue)</td>"
                body += "<td>\(shape[0] == shape[1] ? shape[0] : "\(shape[0]) → \(shape[1])")</td>"
                body +=
                    "<td>\(number(tensor.relativeL2Change))</td><td>\(number(tensor.maxAbsoluteChange))</td><td>\(number(tensor.cosineSimilarity))</td></tr>"
            }
            body += "</table>"
        }

        let lineage = diff.lineage.filter { $0.old != $0.new }
        body += "<h2>Lineage</h2>"
        body += lineage.isEmpty ? "<p class=\"note\">Same lineage.</p>" : table(lineage, old: diff.old, new: diff.new)
        return Document.html(
            title: "mv diff \(diff.old) \(diff.new)", heading: "\(diff.old) → \(diff.new)",
            meta: "What changed between two versions; \(Document.generated(generated)).", body: body)
    }

    static func table(_ changes: [VersionDiff.Change], old: String, new: String) -> String {
        var out = "<table><tr><th>name</th><th>\(SVG.escape(old))</th><th>\(SVG.escape(new))</th></tr>"
        for change in changes {
            out +=
                "<tr><td>\(SVG.escape(change.name))</td><td>\(SVG.escape(change.old ?? "–"))</td><td>\(SVG.escape(change.new ?? "–"))</td></tr>"
        }
        return out + "</table>"
    }

    static func number(_ value: Double?) -> String { value.map { String(format: "%.4g", $0) } ?? "" }
}
