import Foundation
import Registry

/// The training loss per epoch of the iterative fits (`training/loss.npy`), one line per
/// version, for those of the newest versions that recorded one.
enum LossCurves {
    static func section(_ registry: Registry, versions: [VersionRecord]) throws -> String {
        var curves: [(version: String, loss: [Double])] = []
        for record in versions.sorted(by: { $0.version > $1.version }).prefix(HistoryPage.recentVersions) {
            if let loss = try registry.trainingLoss(of: record), !loss.isEmpty {
                curves.append((record.version.description, loss))
            }
        }
        guard !curves.isEmpty else { return "" }
        var chart = LineChart(
            title: "Training loss per epoch", xLabel: "epoch", yLabel: "training loss (objective, per row)",
            series: curves.reversed().map { curve in
                LineChart.Series(
                    name: curve.version, points: curve.loss.enumerated().map { (Double($0.offset + 1), $0.element) }, style: .line)
            })
        chart.width = 640
        chart.height = Swift.max(260, 60 + 14 * Double(curves.count))
        let note =
            versions.count > HistoryPage.recentVersions
            ? "<p class=\"note\">Of the \(HistoryPage.recentVersions) newest versions, those with a recorded loss.</p>" : ""
        return "<h3>Training loss</h3>" + note + "<div class=\"charts\">" + chart.svg() + "</div>"
    }
}
