import Drift
import Foundation
import Learning
import ModelFormat
import Registry

/// `mv monitor`: compares current rows (a CSV file or prediction logs) with a version's
/// reference, computes live metrics when labels are given, checks the policy of `.mv.yaml`
/// and commits the report.
public enum Monitor {
    public static func run(_ request: MonitorRequest, registry: Registry) throws -> MonitorOutcome {
        guard !request.data.isEmpty else { throw MVError("no data to monitor", hint: "pass --data current.csv or a prediction log folder") }
        if request.labels != nil, request.idColumn == nil {
            throw MVError("--labels needs --id-column to join labels to rows", hint: "e.g. --labels labels.csv --id-column id")
        }
        if let name = request.name, (try? ModelName(name)) == nil {
            throw MVError("invalid report name '\(name)': use \(ModelName.rule)", hint: "choose another with --name")
        }
        let modelText = String(request.target.prefix { $0 != "@" && $0 != "#" })
        let model = try ModelName(modelText)
        let explicit = request.target.contains("@") || request.target.contains("#")
        let isLog = try request.data.contains { url in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                throw MVError("cannot read data '\(url.path)': no such file or folder")
            }
            return isDirectory.boolValue || url.pathExtension == "jsonl"
        }

        var observed: (observation: Observation, content: VersionContent, predictor: Predictor?, origin: String)
        var description: MonitoringReport.DataDescription
        if isLog {
            (observed, description) = try readLogs(request, model: model, explicit: explicit, registry: registry)
        } else {
            guard request.data.count == 1 else {
                throw MVError("pass one CSV file with --data (or prediction log files, *.jsonl)", hint: "concatenate the files first")
            }
            if request.since != nil || request.until != nil {
                throw MVError(
                    "--since and --until select prediction log records; a CSV has no times", hint: "drop them, or pass a log folder")
            }
            let resolved = try resolve(request.target, model: model, explicit: explicit, registry: registry)
            let loaded = try load(resolved, request: request, registry: registry)
            var observation = Observation(reference: loaded.reference)
            let labels = try request.labels.map { url in
                try Labels.read(url, idColumn: request.idColumn ?? "id", target: try targetName(loaded.content, loaded.predictor))
            }
            let url = request.data[0]
            let source = CSVSource(
                url: url, predictor: loaded.predictor, labels: labels, idColumn: request.idColumn,
                targetName: loaded.predictor?.target.name ?? loaded.content.manifest.target?.name)
            let read = try source.read(into: &observation)
            observed = (observation, loaded.content, loaded.predictor, loaded.origin)
            description = MonitoringReport.DataDescription(kind: "csv", paths: [url.path], sha256: read.sha256, rows: read.rows)
            if labels != nil, observation.predicted.isEmpty {
                throw MVError(
                    "no row of \(url.lastPathComponent) has a label in \(request.labels?.lastPathComponent ?? "the labels file") (joined on '\(request.idColumn ?? "")')",
                    hint: "check that both files use the same ids")
            }
        }
        let observation = observed.observation
        let content = observed.content
        guard let version = content.resolved.version else {
            throw MVError("\(content.resolved.label) is not a registered version", hint: "monitor a version: mv monitor \(model)@vN")
        }

        let config = registry.config
        let blocks = config.monitoring.filter { $0.applies(to: model.value) }
        var options = DriftOptions()
        for block in blocks {
            if let share = block.datasetDriftShare { options.datasetShare = share }
            if let p = block.pValue { options.pValueThreshold = p }
            if let distance = block.distance { options.distanceThreshold = distance }
        }
        if let share = request.datasetDriftShare { options.datasetShare = share }
        if let p = request.pValue { options.pValueThreshold = p }
        if let distance = request.distance { options.distanceThreshold = distance }
        options.numericTest = request.numericTest
        options.categoricalTest = request.categoricalTest

        let drift = observation.drift(options: options)
        var report = MonitoringReport(
            model: model.value, version: version.description, versionCommit: content.resolved.commit.description,
            name: request.name ?? (isLog ? "predictions" : defaultName(request.data[0])),
            monitoredAt: timestamp(Date()), data: description, reference: observation.reference.source,
            referenceOrigin: observed.origin, features: drift.features, predictions: drift.predictions, options: options)
        report.command = request.commandLine.isEmpty ? nil : request.commandLine.joined(separator: " ")
        report.unpredictableRows = observation.unpredictable
        report.unpredictableReason = observation.unpredictableReason
        report.unknownLabels = observation.unknownLabels
        report.labelledRows = observation.predicted.count
        // Labelled pairs exist only where the version could predict, so its predictor is loaded.
        if !observation.predicted.isEmpty, let predictor = observed.predictor {
            report.metrics = liveMetrics(observation, target: predictor.target, holdout: holdoutMetrics(content))
        }
        report.rules = try PolicyCheck(registry: registry, model: model, content: content).evaluate(blocks, report)

        var outcome = MonitorOutcome(report: report)
        if request.commit {
            var commit = MonitoringCommit(
                model: model.value, version: version.description, name: report.name, yaml: report.yaml(),
                summary: report.summary, body: report.body, trailers: report.trailers)
            commit.force = request.force
            let landed = try registry.recordMonitoring(commit)
            outcome.commit = landed.commit
            outcome.tag = landed.tag
            outcome.path = landed.path
        }
        return outcome
    }

    /// The version a bare model name means: the production holder, else the latest version.
    static func resolve(_ target: String, model: ModelName, explicit: Bool, registry: Registry) throws -> ResolvedVersion {
        if explicit { return try registry.resolve(target) }
        if let holder = try? registry.resolve("\(model)#production") { return holder }
        return try registry.resolve(target)
    }

    /// A version, its reference (recorded, or profiled from `--reference`) and, for models mv
    /// runs itself, a predictor.
    static func load(_ resolved: ResolvedVersion, request: MonitorRequest, registry: Registry) throws -> (
        content: VersionContent, reference: ReferenceProfile, predictor: Predictor?, origin: String
    ) {
        let content = try registry.content(of: resolved)
        let predictor = try? registry.predictor(resolved, ignoreUnknownCategories: true)
        if let url = request.referenceCSV {
            let kinds = Registry.featureKinds(content.manifest)
            let names = kinds.isEmpty ? nil : kinds.map(\.name)
            var profile = try registry.referenceProfile(
                fromCSV: url, columns: names, kinds: Dictionary(kinds.map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a }))
            // The version's predictions on those rows, when it can run here and take them all.
            if let predictor { profile.predictions = try? registry.predictionProfile(predictor, fromCSV: url) }
            return (content, profile, predictor, "--reference \(url.lastPathComponent)")
        }
        guard let reference = try registry.reference(of: content) else {
            throw MVError(
                "\(resolved.label) has no reference distributions to compare with (it was registered without one)",
                hint: "pass the data it was trained on: mv monitor \(resolved.label) --reference train.csv --data …")
        }
        return (content, reference, predictor, "\(registry.folder(of: resolved.model))/\(ReferenceProfile.fileName)")
    }

    static func targetName(_ content: VersionContent, _ predictor: Predictor?) throws -> String {
        guard let name = predictor?.target.name ?? content.manifest.target?.name else {
            throw MVError("\(content.resolved.label) names no target column, so labels cannot be read", hint: "drop --labels")
        }
        return name
    }

    static func readLogs(_ request: MonitorRequest, model: ModelName, explicit: Bool, registry: Registry) throws -> (
        (observation: Observation, content: VersionContent, predictor: Predictor?, origin: String), MonitoringReport.DataDescription
    ) {
        let files = try PredictionLogSource.files(request.data)
        let wanted: SemanticVersion? = explicit ? try registry.resolve(request.target).version : nil
        var states: [String: (observation: Observation, content: VersionContent, predictor: Predictor?, origin: String)] = [:]
        var order: [String] = []
        var labels: Labels?
        var skippedVersions = 0
        let source = PredictionLogSource(
            files: files, model: model.value, since: request.since, until: request.until)
        let read = try source.read { logged, line in
            var record = logged
            // The log writes versions without the 'v' (as the server's answers do).
            guard let version = try? SemanticVersion(userInput: record.version) else {
                throw MVError(
                    "the log names version '\(record.version)' of '\(model)', which is not a version", hint: "pass a log of mv serve")
            }
            record.version = version.description
            if let wanted, version != wanted {
                skippedVersions += 1
                return
            }
            if states[record.version] == nil {
                let resolved: ResolvedVersion
                do { resolved = try registry.resolve("\(model)@\(version)") } catch {
                    throw MVError(
                        "the log names \(model)@\(version), which this repository does not hold",
                        hint: "pull the registry's tags (git fetch --tags), or pass logs of this registry")
                }
                let loaded = try load(resolved, request: request, registry: registry)
                if labels == nil, let url = request.labels {
                    labels = try Labels.read(
                        url, idColumn: request.idColumn ?? "id", target: try targetName(loaded.content, loaded.predictor))
                }
                states[record.version] = (Observation(reference: loaded.reference), loaded.content, loaded.predictor, loaded.origin)
                order.append(record.version)
            }
            guard var state = states[record.version] else { return }
            states[record.version] = nil
            try PredictionLogSource.observe(
                record, line: line, source: files.count == 1 ? files[0].lastPathComponent : "the log", target: state.predictor?.target,
                labels: labels, idColumn: request.idColumn, into: &state.observation)
            states[record.version] = state
        }
        guard let first = order.first, let state = states[first] else {
            if !read.otherModels.isEmpty {
                throw MVError(
                    "the log holds predictions of \(read.otherModels.sorted().map { "'\($0)'" }.joined(separator: ", ")), not of '\(model)'",
                    hint: "monitor that model, or pass the log of '\(model)'")
            }
            if let wanted {
                throw MVError(
                    "the log holds no predictions of \(model)@\(wanted)\(window(request))",
                    hint: "drop the version to see which were logged")
            }
            throw MVError(
                "the log holds no predictions of '\(model)'\(window(request))", hint: "widen --since/--until, or pass another log")
        }
        guard order.count == 1 else {
            throw MVError(
                "the log holds predictions of several versions of '\(model)' (\(order.joined(separator: ", ")))",
                hint: "monitor one: mv monitor \(model)@\(order.last ?? first) --data …")
        }
        if request.labels != nil, state.observation.predicted.isEmpty {
            throw MVError(
                "no logged row has a label in \(request.labels?.lastPathComponent ?? "the labels file") (joined on '\(request.idColumn ?? "")')",
                hint: "check that the ids match a logged column, or use --id-column request_id")
        }
        let description = MonitoringReport.DataDescription(
            kind: "prediction-log", paths: files.map(\.path), sha256: nil, rows: state.observation.rows,
            since: request.since.map(timestamp), until: request.until.map(timestamp), skipped: read.skipped + skippedVersions)
        return (state, description)
    }

    static func window(_ request: MonitorRequest) -> String {
        switch (request.since, request.until) {
        case (nil, nil): return ""
        case (let since?, nil): return " since \(timestamp(since))"
        case (nil, let until?): return " before \(timestamp(until))"
        case (let since?, let until?): return " between \(timestamp(since)) and \(timestamp(until))"
        }
    }

    static func defaultName(_ url: URL) -> String {
        let stem = url.deletingPathExtension().lastPathComponent
        if (try? ModelName(stem)) != nil { return stem }
        let cleaned = String(stem.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
        return (try? ModelName(cleaned)) != nil ? cleaned : "current"
    }

    static func timestamp(_ date: Date) -> String {
        Date.ISO8601FormatStyle().format(date)
    }

    /// The metrics `mv eval` computes, on the labelled rows, beside the hold-out's.
    static func liveMetrics(_ observation: Observation, target: TargetSchema, holdout: [String: Double]) -> [MonitoringReport.LiveMetric] {
        let values: [MetricValue]
        switch target.task {
        case .regression:
            values = Metrics.regression(predicted: observation.predicted, actual: observation.actual)
        case .classification:
            values = Metrics.classification(
                predicted: observation.predicted, actual: observation.actual, classCount: target.classes.count)
        }
        return values.map { MonitoringReport.LiveMetric(name: $0.name, value: $0.value, holdout: holdout[$0.name]) }
    }

    static func holdoutMetrics(_ content: VersionContent) -> [String: Double] {
        guard let report = content.reports.first(where: { $0.name == "holdout" })?.report else { return [:] }
        return Dictionary(report.metrics.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
    }
}
