import Foundation
import ModelFormat
import Registry

/// Drift of each feature across monitoring runs: its PSI (one scale for every column type)
/// per run, and the share of drifted features, from the reports `mv monitor` committed.
enum DriftOverTime {
    static func section(_ registry: Registry, records: [MonitoringRecord]) throws -> String {
        guard !records.isEmpty else { return "" }
        var psi: [String: [(x: Double, y: Double)]] = [:]
        var order: [String] = []
        for (index, record) in records.enumerated() {
            guard let report = try registry.monitoringReport(of: record), case .list(let features)? = report["features"] else { continue }
            for feature in features {
                guard let name = feature["name"]?.stringValue, let value = feature["psi"]?.doubleValue else { continue }
                if psi[name] == nil { order.append(name) }
                psi[name, default: []].append((Double(index + 1), value))
            }
        }
        let ticks = records.enumerated().map { (x: Double($0.offset + 1), label: "\($0.element.version) #\($0.element.number)") }
        var share = LineChart(
            title: "Drift share per monitoring run", xLabel: "monitoring run (version #run)", yLabel: "share of drifted features",
            series: [
                LineChart.Series(
                    name: "drift share",
                    points: records.enumerated().compactMap { index, record in
                        record.fields["Drift-Share"].flatMap(Double.init).map { (x: Double(index + 1), y: $0) }
                    })
            ])
        share.xTickLabels = ticks
        share.xDomain = 0.5...(Double(records.count) + 0.5)
        share.yDomain = 0...1
        share.allowLogY = false
        var out = "<h3>Monitoring</h3><div class=\"charts\">" + share.svg()
        if !order.isEmpty {
            var features = LineChart(
                title: "PSI of each feature per monitoring run", xLabel: "monitoring run (version #run)",
                yLabel: "population stability index",
                series: order.map { LineChart.Series(name: $0, points: psi[$0] ?? []) })
            features.series.append(
                LineChart.Series(name: "0.2: major shift", points: [(0.5, 0.2), (Double(records.count) + 0.5, 0.2)], style: .dashed))
            features.xTickLabels = ticks
            features.xDomain = 0.5...(Double(records.count) + 0.5)
            features.allowLogY = false
            features.width = 640
            features.height = Swift.max(260, 60 + 14 * Double(features.series.count))
            out += features.svg()
        }
        return out + "</div>"
    }
}
