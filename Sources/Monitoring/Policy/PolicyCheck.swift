import Drift
import Foundation
import ModelFormat
import Registry

/// Checks a report against the `monitoring:` rules of `.mv.yaml` that apply to its model;
/// without any, against the dataset verdict (drift share below Evidently's 0.5).
struct PolicyCheck {
    let registry: Registry
    let model: ModelName
    let content: VersionContent

    func evaluate(_ blocks: [MonitoringBlock], _ report: MonitoringReport) throws -> [MonitoringReport.RuleOutcome] {
        guard !blocks.isEmpty else {
            let share = report.features.share
            let threshold = report.options.datasetShare
            return [
                MonitoringReport.RuleOutcome(
                    rule: "drift_share < \(YAMLValue.format(threshold)) (default: no monitoring policy in .mv.yaml)", line: 0,
                    passed: share < threshold,
                    detail:
                        "\(report.features.driftedCount) of \(report.features.columns.count) features drifted (share \(Self.number(share)))"
                )
            ]
        }
        var outcomes: [MonitoringReport.RuleOutcome] = []
        for block in blocks {
            for rule in block.rules { outcomes.append(try check(rule, report)) }
        }
        return outcomes
    }

    private func check(_ rule: MonitoringRule, _ report: MonitoringReport) throws -> MonitoringReport.RuleOutcome {
        func outcome(_ passed: Bool, _ detail: String) -> MonitoringReport.RuleOutcome {
            MonitoringReport.RuleOutcome(rule: rule.text, line: rule.line, passed: passed, detail: detail)
        }
        switch rule.subject {
        case .dataset(let figure):
            let value: Double
            switch figure {
            case "drift_share": value = report.features.share
            case "drifted_features": value = Double(report.features.driftedCount)
            default: value = Double(report.data.rows)
            }
            guard case .number(let bound) = rule.bound else { return outcome(false, "needs a number") }
            return outcome(rule.comparison.holds(value, bound), "\(figure) \(Self.number(value))")
        case .statistic(let statistic, let column):
            guard case .number(let bound) = rule.bound else { return outcome(false, "needs a number") }
            var columns: [ColumnDrift]
            if let column {
                if column == "prediction" {
                    guard let predictions = report.predictions else {
                        return outcome(true, "skipped: no predictions to compare (no prediction reference, or the model cannot run here)")
                    }
                    columns = [predictions]
                } else {
                    guard let drift = report.features.columns.first(where: { $0.name == column }) else {
                        throw MVError(
                            "\(RegistryConfig.fileName):\(rule.line): rule '\(rule.text)' names the column '\(column)', which \(report.model)@\(report.version) does not take",
                            hint: "columns: \(report.features.columns.map(\.name).joined(separator: ", ")), or 'prediction'")
                    }
                    columns = [drift]
                }
            } else {
                columns = report.features.columns
            }
            let measured = columns.compactMap { drift in Self.statistic(statistic, of: drift).map { (drift.name, $0) } }
            guard !measured.isEmpty else { return outcome(true, "skipped: \(statistic) applies to none of the columns") }
            let failing = measured.filter { !rule.comparison.holds($0.1, bound) }
            if failing.isEmpty {
                // The column nearest to breaching it.
                let worst = measured.min { Swift.abs($0.1 - bound) < Swift.abs($1.1 - bound) }
                return outcome(true, worst.map { "worst: \($0.0) \(Self.number($0.1))" } ?? "")
            }
            return outcome(false, failing.prefix(5).map { "\($0.0) \(Self.number($0.1))" }.joined(separator: ", "))
        case .metric(let metric):
            guard let live = report.metrics.first(where: { $0.name == metric }) else {
                return outcome(
                    true, report.metrics.isEmpty ? "skipped: no labels given" : "skipped: '\(metric)' is not computed for this task")
            }
            let bound: Double
            var against = ""
            switch rule.bound {
            case .number(let number):
                bound = number
            case .metric(let source, let name, let offset, let percent):
                let base: Double?
                if source == "holdout" {
                    base = Monitor.holdoutMetrics(content)[name]
                    against = "this version's hold-out"
                } else {
                    guard let holder = try? registry.resolve("\(model)#\(source)") else {
                        return outcome(true, "skipped: no version holds \(source)")
                    }
                    base = Monitor.holdoutMetrics(try registry.content(of: holder))[name]
                    against = "\(holder.label) hold-out"
                }
                guard let base else { return outcome(true, "skipped: \(against) has no \(name)") }
                bound = GateRule.shifted(base, offset: offset, percent: percent)
                against += " \(Self.number(base))"
            }
            return outcome(
                rule.comparison.holds(live.value, bound),
                "\(metric) \(Self.number(live.value)) on \(report.labelledRows) labelled rows, bound \(Self.number(bound))"
                    + (against.isEmpty ? "" : " (\(against))"))
        }
    }

    static func statistic(_ name: String, of drift: ColumnDrift) -> Double? {
        let value: Double?
        switch name {
        case "psi": value = drift.psi
        case "ks": value = drift.ks?.statistic
        case "ks_p": value = drift.ks?.pValue
        case "wasserstein": value = drift.wasserstein
        case "jensenshannon": value = drift.jensenShannon
        case "chisquare_p": value = drift.chiSquare?.pValue
        case "z_p": value = drift.zTest?.pValue
        case "missing": value = drift.missingShare
        case "out_of_range": value = drift.outOfRange
        case "unseen": value = drift.unseenShare
        default: value = drift.score
        }
        return value.flatMap { $0.isNaN ? nil : $0 }
    }

    static func number(_ value: Double) -> String { MonitoringReport.number(value) }
}
