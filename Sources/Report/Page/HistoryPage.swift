import Foundation
import ModelFormat
import Registry

/// `mv report`: one self-contained HTML page (inline CSS and SVG, no script, no network) of
/// the history of each model — its versions, its metrics across versions, its stage events
/// and its monitoring runs — read from tags and the reports they point at.
public enum HistoryPage {
    /// The page for `models` (every model when empty).
    public static func html(_ registry: Registry, models names: [String], generated: Date = Date()) throws -> String {
        let models = names.isEmpty ? try registry.models().map(\.name) : names
        guard !models.isEmpty else {
            throw MVError("this repository has no models to report on", hint: "train one: mv train <model> --data … --target …")
        }
        var body = ""
        for name in models { body += try section(registry, name) }
        let stamp = Date.ISO8601FormatStyle().format(generated)
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(SVG.escape("mv report: " + models.joined(separator: ", ")))</title>
            <style>\(style)</style></head>
            <body><h1>Model history</h1>
            <p class="meta">\(models.count) model\(models.count == 1 ? "" : "s"), generated \(stamp) by mv \(SVG.escape(Registry.mvVersion)).</p>
            \(body)</body></html>

            """
    }

    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#111;max-width:1100px}
        h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}h3{font-size:15px}
        table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
        th{background:#f4f4f4}.meta{color:#555}.charts{display:flex;flex-wrap:wrap;gap:12px}
        .chart text{font:11px system-ui,sans-serif;fill:#111}.chart .chart-title{font-size:13px;font-weight:600}
        .deprecated{color:#888;text-decoration:line-through}
        """

    static func section(_ registry: Registry, _ name: String) throws -> String {
        let model = try ModelName(name)
        let versions = try registry.versions(of: name)
        let state = try registry.state(of: model)
        let history = try registry.history(of: name)
        let evaluations = try registry.evaluations(of: model)
        let monitoring = try registry.monitoringRecords(of: model)
        var out = "<section><h2>\(SVG.escape(name))</h2>"
        out += "<p class=\"meta\">\(versions.count) version\(versions.count == 1 ? "" : "s")"
        if !state.holders.isEmpty {
            out +=
                "; "
                + state.holders.sorted { $0.key < $1.key }.map { "\(SVG.escape($0.key)): \(SVG.escape($0.value.label))" }
                .joined(separator: ", ")
        }
        out += ".</p>"

        // Versions, newest first.
        let metricNames = orderedNames(versions.flatMap { $0.metrics.map(\.name) })
        let stagesByVersion = Dictionary(
            grouping: state.holders.compactMap { stage, holder in holder.version.map { ($0, stage) } }, by: \.0)
        out += "<h3>Versions</h3><table><tr><th>version</th><th>date</th><th>commit</th><th>stages</th>"
        out += metricNames.map { "<th>\(SVG.escape($0))</th>" }.joined() + "</tr>"
        for record in versions {
            let deprecated = !state.isActive(record.version)
            out += "<tr\(deprecated ? " class=\"deprecated\"" : "")><td>\(record.version)</td>"
            out +=
                "<td>\(record.date.map { Date.ISO8601FormatStyle().format($0) } ?? "")</td><td><code>\(record.commit.prefix(8))</code></td>"
            out += "<td>\((stagesByVersion[record.version] ?? []).map { SVG.escape($0.1) }.sorted().joined(separator: ", "))</td>"
            for metric in metricNames {
                out += "<td>\(record.metrics.first { $0.name == metric }.map { String(format: "%.4g", $0.value) } ?? "")</td>"
            }
            out += "</tr>"
        }
        out += "</table>"

        // Metrics across versions: the hold-out (from the version tags) and each named evaluation.
        let ordered = versions.sorted { $0.version < $1.version }
        let position = Dictionary(ordered.enumerated().map { ($1.version, Double($0 + 1)) }, uniquingKeysWith: { a, _ in a })
        let ticks = ordered.map { (x: position[$0.version] ?? 0, label: $0.version.description) }
        var evaluationSeries: [String: [String: [(x: Double, y: Double)]]] = [:]
        for record in evaluations {
            guard let x = position[record.version], let report = try registry.report(of: record) else { continue }
            for metric in report.metrics { evaluationSeries[metric.name, default: [:]][record.name, default: []].append((x, metric.value)) }
        }
        if !metricNames.isEmpty {
            out += "<h3>Metrics across versions</h3><div class=\"charts\">"
            for metric in metricNames {
                var series = [
                    LineChart.Series(
                        name: "holdout",
                        points: ordered.compactMap { record in
                            record.metrics.first { $0.name == metric }.map { (position[record.version] ?? 0, $0.value) }
                        })
                ]
                for (evaluation, points) in (evaluationSeries[metric] ?? [:]).sorted(by: { $0.key < $1.key }) {
                    series.append(LineChart.Series(name: evaluation, points: points.sorted { $0.x < $1.x }))
                }
                var chart = LineChart(title: "\(metric) across versions", xLabel: "version", yLabel: metric, series: series)
                chart.xTickLabels = ticks
                if let holder = state.holders["production"]?.version, let x = position[holder] {
                    chart.spans = [LineChart.Span(from: x - 0.4, to: x + 0.4, label: "production")]
                }
                out += chart.svg()
            }
            out += "</div>"
        }

        // Monitoring runs: drift share over time.
        if !monitoring.isEmpty {
            let points = monitoring.enumerated().compactMap { index, record in
                record.fields["Drift-Share"].flatMap(Double.init).map { (x: Double(index + 1), y: $0) }
            }
            var chart = LineChart(
                title: "Drift share per monitoring run", xLabel: "monitoring run", yLabel: "share of drifted features",
                series: [LineChart.Series(name: "drift share", points: points)])
            chart.xTickLabels = monitoring.enumerated().map { (Double($0.offset + 1), "\($0.element.version) #\($0.element.number)") }
            chart.allowLogY = false
            out += "<h3>Monitoring</h3><div class=\"charts\">" + chart.svg() + "</div>"
        }

        // Stage events and everything else that happened, newest first.
        out += "<h3>History</h3><table><tr><th>date</th><th>event</th><th>version</th><th>stage</th><th>detail</th></tr>"
        for entry in history {
            out += "<tr><td>\(Date.ISO8601FormatStyle().format(entry.time))</td><td>\(SVG.escape(entry.event))</td>"
            out +=
                "<td>\(SVG.escape(entry.version ?? ""))</td><td>\(SVG.escape(entry.stage ?? ""))</td><td>\(SVG.escape(entry.detail))</td></tr>"
        }
        out += "</table></section>"
        return out
    }

    /// Names in first-seen order, without repeats.
    static func orderedNames(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}
