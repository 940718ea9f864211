import ArgumentParser
import Drift
import Foundation
import Monitoring
import Registry

struct MonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Compare current data with a version's training data, check the monitoring policy, and commit the report.",
        discussion: """
            DATA is a CSV with the model's feature columns (and, for live metrics, its target), or the folder \
            (or *.jsonl files) 'mv serve --log-predictions' wrote. The report lands in <model>/monitoring/<name>.yaml \
            with a tag monitor/<model>/<version>/<N>. Exit status: 0 within the policy, 1 when a rule of the \
            'monitoring:' block in .mv.yaml is breached (without one: when the dataset drifted), 2 on bad input. \
            See docs/MONITORING.md.
            """)

    @Argument(help: "The model (its production holder, else its latest version), or model@vX / model#stage.")
    var target: String

    @Option(name: .long, parsing: .upToNextOption, help: "Current rows: a CSV file, or prediction log files/folders.")
    var data: [String] = []

    @Option(help: "Profile this CSV as the reference (for a version that recorded none).")
    var reference: String?

    @Option(help: "A CSV of labels (the id column and the model's target) for live metrics.")
    var labels: String?

    @Option(name: .customLong("id-column"), help: "The column that joins labels to rows (request_id for logged requests).")
    var idColumn: String?

    @Option(help: "Logs only: records from this time on (ISO 8601, or 30m / 24h / 7d ago).")
    var since: String?

    @Option(help: "Logs only: records before this time (ISO 8601, or 30m / 24h / 7d ago).")
    var until: String?

    @Option(help: "Report name (default: the data file's name, or 'predictions' for logs).")
    var name: String?

    @Option(name: .customLong("drift-share"), help: "Share of drifted features at which the dataset drifted (default 0.5).")
    var driftShare: Double?

    @Option(name: .customLong("p-value"), help: "p-value below which KS / chi-square call a feature drifted (default 0.05).")
    var pValue: Double?

    @Option(help: "Distance at or above which Wasserstein / Jensen–Shannon call a feature drifted (default 0.1).")
    var distance: Double?

    @Option(name: .customLong("numeric-test"), help: "ks or wasserstein for every numeric feature (default: by reference size).")
    var numericTest: String?

    @Option(
        name: .customLong("categorical-test"), help: "chisquare, jensenshannon or ztest (two categories) for every categorical feature.")
    var categoricalTest: String?

    @Flag(name: .customLong("no-commit"), help: "Print the report only.")
    var noCommit = false

    @Flag(help: "Print the report as Markdown (for a pull request or an alert).")
    var markdown = false

    @Flag(help: "Replace an uncommitted report of the same name.")
    var force = false

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        do {
            var request = MonitorRequest(target: target, data: data.map(options.url))
            request.referenceCSV = reference.map(options.url)
            request.labels = labels.map(options.url)
            request.idColumn = idColumn
            request.since = try since.map { try MonitorTime.parse($0, option: "--since") }
            request.until = try until.map { try MonitorTime.parse($0, option: "--until") }
            request.name = name
            request.datasetDriftShare = try driftShare.map { try Self.share($0, "--drift-share") }
            request.pValue = try pValue.map { try Self.share($0, "--p-value") }
            request.distance = try distance.map { try Self.share($0, "--distance") }
            request.numericTest = try numericTest.map { try Self.test($0, allowed: [.ks, .wasserstein], option: "--numeric-test") }
            request.categoricalTest = try categoricalTest.map {
                try Self.test($0, allowed: [.chisquare, .jensenshannon, .ztest], option: "--categorical-test")
            }
            request.commit = !noCommit
            request.force = force
            request.commandLine = CommandLine.arguments
            let outcome = try Monitor.run(request, registry: try options.open())
            if options.json {
                print(outcome.report.json(), terminator: "")
            } else if markdown {
                print(outcome.report.markdown(), terminator: "")
            } else {
                print(MonitorRendering.text(outcome), terminator: "")
            }
            if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
        } catch let error as MVError {
            // Bad input is 2, so a scheduled job tells it from a breach (1).
            throw MVError(error.message, hint: error.hint, exitCode: 2)
        }
    }

    static func share(_ value: Double, _ option: String) throws -> Double {
        guard value > 0, value <= 1 else { throw MVError("\(option) must be above 0 and at most 1 (got \(value))") }
        return value
    }

    static func test(_ text: String, allowed: [DriftTest], option: String) throws -> DriftTest {
        guard let test = DriftTest(rawValue: text), allowed.contains(test) else {
            throw MVError("\(option) must be \(allowed.map(\.rawValue).joined(separator: " or ")) (got '\(text)')")
        }
        return test
    }
}

/// `--since` / `--until`: an ISO 8601 time or date, or a duration before now.
enum MonitorTime {
    static func parse(_ text: String, option: String, now: Date = Date()) throws -> Date {
        if let unit = text.last, let amount = Double(text.dropLast()), amount >= 0 {
            let seconds: Double? = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800][unit]
            if let seconds { return now.addingTimeInterval(-amount * seconds) }
        }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        if let date = try? Date.ISO8601FormatStyle().year().month().day().parse(text) { return date }
        throw MVError(
            "\(option) '\(text)' is neither an ISO 8601 time nor a duration",
            hint: "e.g. \(option) 2026-12-01, \(option) 2026-12-01T08:00:00Z or \(option) 24h")
    }
}
