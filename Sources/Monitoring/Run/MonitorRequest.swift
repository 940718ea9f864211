import Drift
import Foundation
import Registry

/// What `mv monitor` needs.
public struct MonitorRequest: Sendable {
    /// `model`, `model@vX` or `model#stage`.
    public var target: String
    /// A CSV file, or prediction log files / folders written by `mv serve --log-predictions`.
    public var data: [URL]
    /// Profile this CSV as the reference instead of the version's recorded one.
    public var referenceCSV: URL?
    /// A CSV of labels joined to the rows by `idColumn`.
    public var labels: URL?
    public var idColumn: String?
    /// Prediction logs only: the time window (inclusive start, exclusive end).
    public var since: Date?
    public var until: Date?
    /// Report name: `monitoring/<name>.yaml`; defaults to the data file's name, or
    /// `predictions` for logs.
    public var name: String?
    /// Command-line choices that win over the policy's and the defaults.
    public var datasetDriftShare: Double?
    public var pValue: Double?
    public var distance: Double?
    public var numericTest: DriftTest?
    public var categoricalTest: DriftTest?
    public var commit = true
    public var force = false
    /// The command line, recorded in the report.
    public var commandLine: [String] = []

    public init(target: String, data: [URL]) {
        self.target = target
        self.data = data
    }
}

/// The result of a run: the report, and where it was committed (unless `--no-commit`).
public struct MonitorOutcome: Sendable {
    public var report: MonitoringReport
    public var commit: String?
    public var tag: String?
    public var path: String?

    /// 1 when a policy rule is breached, else 0 (bad input throws instead: exit 2).
    public var exitCode: Int32 { report.breached ? 1 : 0 }
}
