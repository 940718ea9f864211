import Foundation
import Registry

/// How much each tensor changed from one version to the next: relative L2 change
/// ‖new − old‖ / ‖old‖, as `mv diff` computes it, a row per tensor and a column per step.
enum TensorChanges {
    /// The steps between the newest versions (at most `HistoryPage.recentVersions`).
    static func section(_ registry: Registry, model: String, versions: [VersionRecord]) throws -> String {
        let recent = Array(versions.sorted { $0.version < $1.version }.suffix(HistoryPage.recentVersions))
        guard recent.count > 1 else { return "" }
        let steps = try registry.tensorChanges(along: recent.map { "\(model)@\($0.version)" }, model: model).enumerated().map {
            (label: "\(recent[$0.offset].version)→\(recent[$0.offset + 1].version)", tensors: $0.element.tensors)
        }
        guard let chart = heatmap(steps, title: "Relative change of each tensor between consecutive versions") else { return "" }
        let note = versions.count > recent.count ? " The \(recent.count) newest of \(versions.count) versions." : ""
        return
            "<h3>Tensor changes</h3><p class=\"note\">‖new − old‖ / ‖old‖ per tensor; pale: unchanged, crossed: added, removed or reshaped.\(note)\(chart.note)</p>"
            + chart.svg
    }

    /// The heatmap of `steps`; tensors that never changed are left out and counted in the
    /// note. nil when there are no tensors at all.
    static func heatmap(_ steps: [(label: String, tensors: [VersionDiff.TensorDelta])], title: String) -> (svg: String, note: String)? {
        let names = HistoryPage.orderedNames(steps.flatMap { $0.tensors.map(\.name) })
        guard !names.isEmpty else { return nil }
        let lookup = steps.map { step in Dictionary(step.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }) }
        var rows: [(String, [Double?])] = []
        var unchanged = 0
        for name in names {
            let cells = lookup.map { step -> Double? in
                guard let delta = step[name] else { return nil }
                return delta.status == .unchanged ? 0 : delta.relativeL2Change
            }
            if cells.allSatisfy({ $0 == 0 }) {
                unchanged += 1
            } else {
                rows.append((name, cells))
            }
        }
        let note = unchanged > 0 ? " \(unchanged) tensor\(unchanged == 1 ? "" : "s") unchanged throughout, not drawn." : ""
        guard !rows.isEmpty else { return ("", " No tensor changed." + note) }
        var chart = Heatmap(
            title: title, xLabel: "version step", yLabel: "tensor", valueLabel: "relative L2 change",
            rowLabels: rows.map(\.0), columnLabels: steps.map(\.label), values: rows.map(\.1))
        chart.missingText = "added, removed or reshaped"
        return (chart.svg(), note)
    }
}
