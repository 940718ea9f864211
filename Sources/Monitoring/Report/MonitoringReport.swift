import Drift
import Foundation
import ModelFormat

/// What one `mv monitor` run found: the drift of every feature and of the predictions, the
/// live metrics when labels were given, and the policy's verdict. Written as
/// `monitoring/<name>.yaml` (docs/FORMAT.md), printed as a table, JSON or Markdown.
public struct MonitoringReport: Sendable {
    public var model: String
    public var version: String
    public var versionCommit: String
    public var name: String
    public var monitoredAt: String
    /// What was read: a CSV file (path, sha256) or prediction logs (files, window).
    public var data: DataDescription
    public var reference: ReferenceProfile.Source
    public var referenceOrigin: String
    public var features: DatasetDrift
    public var predictions: ColumnDrift?
    public var options: DriftOptions
    public var metrics: [LiveMetric] = []
    public var labelledRows = 0
    public var unknownLabels = 0
    public var unpredictableRows = 0
    public var unpredictableReason: String?
    public var rules: [RuleOutcome] = []
    public var command: String?

    /// Whether any policy rule failed.
    public var breached: Bool { rules.contains { !$0.passed } }

    /// Where the rows came from.
    public struct DataDescription: Sendable {
        public var kind: String
        public var paths: [String]
        public var sha256: String?
        public var rows: Int
        public var since: String?
        public var until: String?
        /// Log records of other models or versions that were skipped.
        public var skipped: Int = 0
    }

    /// A metric on labelled current rows, beside the version's hold-out value.
    public struct LiveMetric: Sendable {
        public var name: String
        public var value: Double
        public var holdout: Double?
        public var delta: Double? { holdout.map { value - $0 } }
    }

    /// One policy rule and how it came out.
    public struct RuleOutcome: Sendable {
        public var rule: String
        public var line: Int
        public var passed: Bool
        /// What was measured and against what, for people.
        public var detail: String
        /// Not checked: no labels, no holder, a statistic that applies to no column.
        public var skipped: Bool { passed && detail.hasPrefix("skipped") }
    }
}
