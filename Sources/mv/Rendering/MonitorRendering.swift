import Drift
import Foundation
import Monitoring

/// `mv monitor` on a terminal: the features worst first, the dataset verdict, live
/// metrics, the policy, and where the report landed.
enum MonitorRendering {
    static func text(_ outcome: MonitorOutcome) -> String {
        let report = outcome.report
        var out =
            "\(report.model) \(report.version) (\(report.versionCommit.prefix(8))): \(report.data.rows) rows from "
            + report.data.paths.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: ", ")
            + " vs \(report.reference.rows) reference rows (\(report.referenceOrigin))\n\n"
        var rows = [["feature", "type", "test", "score", "threshold", "drifted", "psi", "missing", "outside"]]
        let columns = report.features.columns.map { ($0.name, $0) } + (report.predictions.map { [("(predictions)", $0)] } ?? [])
        for (name, drift) in columns {
            let outside = drift.kind == .numeric ? percent(drift.outOfRange) : percent(drift.unseenShare)
            rows.append([
                name, drift.kind.rawValue, drift.test.rawValue, number(drift.score), number(drift.threshold), drift.drifted ? "yes" : "no",
                number(drift.psi), percent(drift.missingShare), outside,
            ])
        }
        out += Terminal.table(rows) + "\n\n"
        out +=
            "dataset: \(report.features.driftedCount) of \(report.features.columns.count) features drifted (share \(number(report.features.share))), "
            + (report.features.drifted ? "drifted" : "not drifted") + " at \(number(report.options.datasetShare))\n"
        if !report.metrics.isEmpty {
            out += "live metrics on \(report.labelledRows) labelled rows:\n"
            out +=
                Terminal.table(
                    report.metrics.map { metric in
                        ["  \(metric.name)", number(metric.value)]
                            + (metric.holdout.map { ["hold-out \(number($0))", "delta \(signed(metric.delta ?? .nan))"] } ?? ["", ""])
                    }) + "\n"
        }
        if report.unpredictableRows > 0 {
            out += "\(report.unpredictableRows) rows could not be predicted (first: \(report.unpredictableReason ?? "?"))\n"
        }
        out += "policy: " + (report.breached ? "BREACHED" : "ok") + "\n"
        for rule in report.rules {
            out +=
                "  " + (rule.skipped ? "skip    " : rule.passed ? "ok      " : "BREACH  ") + rule.rule
                + (rule.detail.isEmpty ? "" : " — \(rule.detail)") + "\n"
        }
        if let path = outcome.path, let tag = outcome.tag, let commit = outcome.commit {
            out += "committed \(path) as \(tag) (\(commit.prefix(8)))\n"
        } else {
            out += "not committed (--no-commit)\n"
        }
        return out
    }

    static func number(_ value: Double) -> String { value.isNaN ? "-" : String(format: "%.4g", value) }

    static func signed(_ value: Double) -> String { value.isNaN ? "-" : String(format: "%+.4g", value) }

    static func percent(_ value: Double?) -> String {
        guard let value, !value.isNaN else { return "-" }
        return String(format: "%.1f%%", value * 100)
    }
}
