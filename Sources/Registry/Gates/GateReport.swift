import Foundation

/// The verdict of one gate check on one version for one stage.
public struct GateReport: Sendable {
    /// One checked rule (or requirement) with what was found.
    public struct Check: Sendable {
        public let rule: String
        public let line: Int
        public let actual: Double?
        public let threshold: Double?
        public let passed: Bool
        public let note: String
        public let allowForce: Bool
    }

    public let model: String
    public let version: String
    public let stage: String
    public let checks: [Check]

    public var passed: Bool { checks.allSatisfy(\.passed) }
    public var failures: [Check] { checks.filter { !$0.passed } }
    /// Force is possible only when every gate with a failing check allows it.
    public var forceAllowed: Bool { failures.allSatisfy(\.allowForce) }

    /// `rmse 0.61 > 0.5; r2 …` — the failures in one line, for an error message.
    public var failureSummary: String {
        failures.map { check in
            if let actual = check.actual, let threshold = check.threshold {
                return "\(check.rule) (got \(GateReport.number(actual)), bound \(GateReport.number(threshold)))"
            }
            return "\(check.rule) (\(check.note))"
        }.joined(separator: "; ")
    }

    /// How metric values are written in gate messages.
    public static func number(_ value: Double) -> String { String(format: "%.6g", value) }
}
