import Foundation
import ModelFormat
import Registry

/// How the newest version and the production holder predict their hold-out rows, from what
/// training stored in `eval/holdout.yaml`: predicted against actual and the residuals for
/// regression (with one feature, the data and the fitted line, as the seed article draws
/// them), the confusion matrix and the ROC curves for classification.
enum PredictionCharts {
    static func section(_ registry: Registry, model: String, versions: [VersionRecord], state: ModelState) throws -> String {
        var shown: [(title: String, version: SemanticVersion)] = []
        if let latest = state.latest ?? versions.map(\.version).max() { shown.append(("latest", latest)) }
        if let holder = state.holders["production"]?.version {
            if let index = shown.firstIndex(where: { $0.version == holder }) {
                shown[index].title = "latest and production"
            } else {
                shown.append(("production", holder))
            }
        }
        var out = ""
        for (title, version) in shown {
            let content = try registry.content(of: registry.resolve("\(model)@\(version)"))
            guard let report = content.reports.first(where: { $0.name == "holdout" })?.report else { continue }
            let charts = self.charts(report, target: content.manifest.target?.name ?? "target", version: version.description)
            guard !charts.isEmpty else { continue }
            out += "<h3>Predictions of \(version) (\(SVG.escape(title))) on its hold-out rows</h3>"
            if let sample = report.sample, sample.actual.count < sample.rows {
                out += "<p class=\"note\">\(sample.actual.count) of \(sample.rows) rows, evenly spaced.</p>"
            }
            out += "<div class=\"charts\">" + charts.joined() + "</div>"
        }
        return out
    }

    /// The pictures one evaluation report allows.
    static func charts(_ report: EvaluationReport, target: String, version: String) -> [String] {
        var charts: [String] = []
        if let sample = report.sample, !sample.actual.isEmpty {
            if let feature = sample.feature, let x = sample.x {
                // The seed's picture: the test points and the fitted line through them.
                let fitted = zip(x, sample.predicted).sorted { $0.0 < $1.0 }.map { (x: $0.0, y: $0.1) }
                let chart = LineChart(
                    title: "\(target) against \(feature): data and fit", xLabel: feature, yLabel: target,
                    series: [
                        LineChart.Series(name: "hold-out rows", points: zip(x, sample.actual).map { (x: $0.0, y: $0.1) }, style: .dots),
                        LineChart.Series(name: "\(version) prediction", points: fitted, style: .line),
                    ])
                charts.append(chart.svg())
            }
            let values = sample.actual + sample.predicted
            let low = values.min() ?? 0
            let high = values.max() ?? 1
            var scatter = LineChart(
                title: "Predicted against actual", xLabel: "actual \(target)", yLabel: "predicted \(target)",
                series: [
                    LineChart.Series(
                        name: "hold-out rows", points: zip(sample.actual, sample.predicted).map { (x: $0.0, y: $0.1) }, style: .dots),
                    LineChart.Series(name: "y = x (perfect)", points: [(low, low), (high, high)], style: .dashed),
                ])
            scatter.allowLogY = false
            charts.append(scatter.svg())
            let residuals = zip(sample.actual, sample.predicted).map { (x: $0.1, y: $0.0 - $0.1) }
            let spread = residuals.map(\.x)
            var residual = LineChart(
                title: "Residuals", xLabel: "predicted \(target)", yLabel: "actual − predicted (\(target) units)",
                series: [
                    LineChart.Series(name: "hold-out rows", points: residuals, style: .dots),
                    LineChart.Series(name: "zero error", points: [(spread.min() ?? 0, 0), (spread.max() ?? 1, 0)], style: .dashed),
                ])
            residual.allowLogY = false
            charts.append(residual.svg())
        }
        if let confusion = report.confusion, !confusion.classes.isEmpty {
            var heatmap = Heatmap(
                title: "Confusion matrix", xLabel: "predicted class", yLabel: "true class", valueLabel: "rows",
                rowLabels: confusion.classes, columnLabels: confusion.classes,
                values: confusion.counts.map { $0.map { Double($0) } })
            heatmap.showValues = true
            heatmap.allowLog = false
            charts.append(heatmap.svg())
        }
        if !report.roc.isEmpty {
            var series = report.roc.map { curve in
                LineChart.Series(
                    name: "\(curve.label) (AUC \(String(format: "%.3f", curve.auc)))",
                    points: zip(curve.fpr, curve.tpr).map { (x: $0.0, y: $0.1) }, style: .line)
            }
            series.append(LineChart.Series(name: "chance", points: [(0, 0), (1, 1)], style: .dashed))
            var chart = LineChart(
                title: report.roc.count == 1 ? "ROC curve" : "ROC curves (each class against the rest)",
                xLabel: "false positive rate", yLabel: "true positive rate", series: series)
            chart.allowLogY = false
            chart.width = 560
            charts.append(chart.svg())
        }
        return charts
    }
}
