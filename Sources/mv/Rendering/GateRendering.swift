import Foundation
import Registry

extension GateReport: Rendered {
    /// Every rule with its actual value, bound and verdict, and the line of `.mv.yaml` that
    /// declares it.
    var text: String {
        var lines = ["gate \(stage) for \(model)@\(version): \(checks.isEmpty ? "no rules" : passed ? "passed" : "FAILED")"]
        for check in checks {
            let values =
                check.actual.map { "actual \(GateReport.number($0))" + (check.threshold.map { ", bound \(GateReport.number($0))" } ?? "") }
                ?? check.note
            lines.append(
                "  \(check.passed ? "pass" : "FAIL")  \(check.rule)  [\(values)]\(check.line > 0 ? "  (\(RegistryConfig.fileName):\(check.line))" : "")"
                    + (check.actual != nil && !check.note.isEmpty ? "  \(check.note)" : ""))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    var json: Any {
        [
            "model": model, "version": version, "stage": stage, "passed": passed, "force_allowed": forceAllowed,
            "checks": checks.map { check in
                [
                    "rule": check.rule, "line": check.line, "passed": check.passed, "note": check.note,
                    "actual": check.actual.map { $0 as Any } ?? NSNull(), "threshold": check.threshold.map { $0 as Any } ?? NSNull(),
                ] as [String: Any]
            },
        ] as [String: Any]
    }
}
