import Foundation
import ModelFormat
import Registry

/// `mv report`: one self-contained HTML page (inline CSS and SVG, no script, no network) of
/// the history of each model — its versions, its metrics across versions, who held each stage
/// when, its training loss curves, its predictions on the hold-out, how its tensors changed
/// and how its inputs drifted — read from tags and the files they point at, never from the
/// training data.
public enum HistoryPage {
    /// How many of the newest versions the loss curves and the tensor changes cover: more
    /// lines or columns than this are no longer read one by one.
    public static let recentVersions = 12

    /// The page for `models` (every model when empty).
    public static func html(_ registry: Registry, models names: [String], generated: Date = Date()) throws -> String {
        let models = names.isEmpty ? try registry.models().map(\.name) : names
        guard !models.isEmpty else {
            throw MVError("this repository has no models to report on", hint: "train one: mv train <model> --data … --target …")
        }
        var body = ""
        for name in models { body += try section(registry, name) }
        return Document.html(
            title: "mv report: " + models.joined(separator: ", "), heading: "Model history",
            meta: "\(models.count) model\(models.count == 1 ? "" : "s"), \(Document.generated(generated)).", body: body)
    }

    static func section(_ registry: Registry, _ name: String) throws -> String {
        let model = try ModelName(name)
        let versions = try registry.versions(of: name)
        let state = try registry.state(of: model)
        let history = try registry.history(of: name)
        var out = "<section><h2>\(SVG.escape(name))</h2>"
        out += "<p class=\"meta\">\(versions.count) version\(versions.count == 1 ? "" : "s")"
        if !state.holders.isEmpty {
            out +=
                "; "
                + state.holders.sorted { $0.key < $1.key }.map { "\(SVG.escape($0.key)): \(SVG.escape($0.value.label))" }
                .joined(separator: ", ")
        }
        out += ".</p>"
        out += versionsTable(versions, state: state)
        out += try metricCharts(registry, model: model, versions: versions, state: state)
        if let timeline = StageTimeline.svg(state) {
            out += "<h3>Stages over time</h3>" + timeline
        }
        out += try LossCurves.section(registry, versions: versions)
        out += try PredictionCharts.section(registry, model: name, versions: versions, state: state)
        out += try TensorChanges.section(registry, model: name, versions: versions)
        out += try DriftOverTime.section(registry, records: registry.monitoringRecords(of: model))
        out += historyTable(history)
        return out + "</section>"
    }

    /// Version, date, commit, stages held and headline metrics, newest first.
    static func versionsTable(_ versions: [VersionRecord], state: ModelState) -> String {
        let metricNames = orderedNames(versions.flatMap { $0.metrics.map(\.name) })
        let stagesByVersion = Dictionary(
            grouping: state.holders.compactMap { stage, holder in holder.version.map { ($0, stage) } }, by: \.0)
        // A long history scrolls inside its box instead of pushing the pictures a page down.
        var out = "<h3>Versions</h3>" + (versions.count > 20 ? "<div class=\"scroll\">" : "")
        out += "<table><tr><th>version</th><th>date</th><th>commit</th><th>stages</th>"
        out += metricNames.map { "<th>\(SVG.escape($0))</th>" }.joined() + "<th>deprecated</th></tr>"
        for record in versions {
            let deprecated = !state.isActive(record.version)
            out += "<tr\(deprecated ? " class=\"deprecated\"" : "")><td>\(record.version)</td>"
            out += "<td>\(record.date.map(Document.stamp) ?? "")</td><td><code>\(record.commit.prefix(8))</code></td>"
            out += "<td>\((stagesByVersion[record.version] ?? []).map { SVG.escape($0.1) }.sorted().joined(separator: ", "))</td>"
            for metric in metricNames {
                out += "<td>\(record.metrics.first { $0.name == metric }.map { String(format: "%.4g", $0.value) } ?? "")</td>"
            }
            out += "<td>\(deprecated ? "yes" : "")</td></tr>"
        }
        return out + "</table>" + (versions.count > 20 ? "</div>" : "")
    }

    /// One chart per headline metric: the hold-out (from the version tags) and each named
    /// evaluation as its own series, the production holder shaded.
    static func metricCharts(_ registry: Registry, model: ModelName, versions: [VersionRecord], state: ModelState) throws -> String {
        let metricNames = orderedNames(versions.flatMap { $0.metrics.map(\.name) })
        guard !metricNames.isEmpty else { return "" }
        let ordered = versions.sorted { $0.version < $1.version }
        let position = Dictionary(ordered.enumerated().map { ($1.version, Double($0 + 1)) }, uniquingKeysWith: { a, _ in a })
        var evaluationSeries: [String: [String: [(x: Double, y: Double)]]] = [:]
        for record in try registry.evaluations(of: model) {
            guard let x = position[record.version], let report = try registry.report(of: record) else { continue }
            for metric in report.metrics { evaluationSeries[metric.name, default: [:]][record.name, default: []].append((x, metric.value)) }
        }
        var out = "<h3>Metrics across versions</h3><div class=\"charts\">"
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
            chart.xTickLabels = ordered.map { (x: position[$0.version] ?? 0, label: $0.version.description) }
            chart.xDomain = 0.5...(Double(ordered.count) + 0.5)
            if let holder = state.holders["production"]?.version, let x = position[holder] {
                chart.spans = [LineChart.Span(from: x - 0.4, to: x + 0.4, label: "production")]
            }
            out += chart.svg()
        }
        return out + "</div>"
    }

    /// Every event, newest first, folded away under the pictures.
    static func historyTable(_ history: [HistoryEntry]) -> String {
        var out = "<details><summary>All \(history.count) events</summary>"
        out += "<table><tr><th>date</th><th>event</th><th>version</th><th>stage</th><th>detail</th></tr>"
        for entry in history {
            out += "<tr><td>\(Document.stamp(entry.time))</td><td>\(SVG.escape(entry.event))</td>"
            out +=
                "<td>\(SVG.escape(entry.version ?? ""))</td><td>\(SVG.escape(entry.stage ?? ""))</td><td>\(SVG.escape(entry.detail))</td></tr>"
        }
        return out + "</table></details>"
    }

    /// Names in first-seen order, without repeats.
    static func orderedNames(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}
