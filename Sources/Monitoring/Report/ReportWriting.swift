import Drift
import Foundation
import ModelFormat

extension MonitoringReport {
    /// The report as one ordered tree: the YAML file and the JSON output both come from it.
    public var tree: YAMLValue {
        var data: [(String, YAMLValue)] = [("kind", .string(self.data.kind)), ("paths", .list(self.data.paths.map(YAMLValue.string)))]
        if let sha = self.data.sha256 { data.append(("sha256", .string(sha))) }
        data.append(("rows", .int(self.data.rows)))
        if let since = self.data.since { data.append(("since", .string(since))) }
        if let until = self.data.until { data.append(("until", .string(until))) }
        if self.data.skipped > 0 { data.append(("skipped_records", .int(self.data.skipped))) }
        var reference: [(String, YAMLValue)] = [
            ("from", .string(referenceOrigin)), ("path", .string(self.reference.path)), ("sha256", .string(self.reference.sha256)),
            ("rows", .int(self.reference.rows)),
        ]
        if let selection = self.reference.selection { reference.append(("selection", .string(selection))) }
        var root: [(String, YAMLValue)] = [
            ("model", .string(model)), ("version", .string(version)), ("commit", .string(versionCommit)), ("name", .string(name)),
            ("monitored_at", .string(monitoredAt)), ("data", .map(data)), ("reference", .map(reference)),
            (
                "drift",
                .map([
                    ("share", .double(features.share)), ("drifted_features", .int(features.driftedCount)),
                    ("features", .int(features.columns.count)), ("dataset_drifted", .bool(features.drifted)),
                    ("dataset_threshold", .double(options.datasetShare)), ("p_value_threshold", .double(options.pValueThreshold)),
                    ("distance_threshold", .double(options.distanceThreshold)),
                ])
            ),
            ("features", .list(features.columns.map(Self.tree))),
        ]
        if let predictions { root.append(("predictions", Self.tree(predictions))) }
        if !metrics.isEmpty || labelledRows > 0 {
            var live: [(String, YAMLValue)] = [("labelled_rows", .int(labelledRows))]
            if unknownLabels > 0 { live.append(("unknown_labels", .int(unknownLabels))) }
            live.append(
                (
                    "metrics",
                    .list(
                        metrics.map { metric in
                            var fields: [(String, YAMLValue)] = [("name", .string(metric.name)), ("value", .double(metric.value))]
                            if let holdout = metric.holdout { fields.append(("holdout", .double(holdout))) }
                            if let delta = metric.delta { fields.append(("delta", .double(delta))) }
                            return .map(fields)
                        })
                ))
            root.append(("live", .map(live)))
        }
        if unpredictableRows > 0 {
            root.append(
                ("unpredictable_rows", .map([("count", .int(unpredictableRows)), ("first_reason", .string(unpredictableReason ?? ""))])))
        }
        root.append(
            (
                "policy",
                .map([
                    ("verdict", .string(breached ? "breach" : "ok")),
                    (
                        "rules",
                        .list(
                            rules.map { rule in
                                .map([
                                    ("rule", .string(rule.rule)), ("line", .int(rule.line)), ("passed", .bool(rule.passed)),
                                    ("skipped", .bool(rule.skipped)),
                                    ("detail", .string(rule.detail)),
                                ])
                            })
                    ),
                ])
            ))
        if let command { root.append(("command", .string(command))) }
        return .map(root)
    }

    static func tree(_ drift: ColumnDrift) -> YAMLValue {
        var fields: [(String, YAMLValue)] = [
            ("name", .string(drift.name)), ("type", .string(drift.kind.rawValue)), ("test", .string(drift.test.rawValue)),
            ("score", .double(drift.score)), ("threshold", .double(drift.threshold)), ("drifted", .bool(drift.drifted)),
            ("psi", .double(drift.psi)),
        ]
        if let ks = drift.ks {
            fields += [("ks", .double(ks.statistic)), ("ks_bound", .double(ks.bound)), ("ks_p", .double(ks.pValue))]
        }
        if let wasserstein = drift.wasserstein { fields.append(("wasserstein", .double(wasserstein))) }
        fields.append(("jensenshannon", .double(drift.jensenShannon)))
        if let chi = drift.chiSquare {
            fields += [("chisquare", .double(chi.statistic)), ("chisquare_dof", .int(chi.dof)), ("chisquare_p", .double(chi.pValue))]
        }
        if let z = drift.zTest { fields += [("z", .double(z.statistic)), ("z_p", .double(z.pValue))] }
        fields += [
            ("rows", .int(drift.currentCount)), ("missing", .double(drift.missingShare)),
            ("reference_missing", .double(drift.referenceMissingShare)),
        ]
        if let outOfRange = drift.outOfRange { fields.append(("out_of_range", .double(outOfRange))) }
        if drift.kind == .categorical {
            fields.append(("unseen", .double(drift.unseenShare ?? .nan)))
            if !drift.unseen.isEmpty { fields.append(("unseen_categories", .list(drift.unseen.map(YAMLValue.string)))) }
        }
        if let mean = drift.currentMean, let std = drift.currentStd, let min = drift.currentMin, let max = drift.currentMax {
            fields.append(
                ("current", .map([("mean", .double(mean)), ("std", .double(std)), ("min", .double(min)), ("max", .double(max))])))
        }
        return .map(fields)
    }

    /// `monitoring/<name>.yaml`.
    public func yaml() -> String {
        "# mv monitoring report: written by mv monitor (see docs/MONITORING.md)\n" + tree.yamlDocument()
    }

    /// The same tree as JSON, keys in the same order; non-finite numbers as null.
    public func json() -> String { Self.json(tree) + "\n" }

    static func json(_ value: YAMLValue) -> String {
        switch value {
        case .string(let text): return OrderedJSON.quoted(text)
        case .int(let number): return String(number)
        case .double(let number): return number.isFinite ? YAMLValue.format(number) : "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "null"
        case .list(let items): return "[" + items.map(json).joined(separator: ",") + "]"
        case .map(let pairs): return "{" + pairs.map { OrderedJSON.quoted($0.0) + ":" + json($0.1) }.joined(separator: ",") + "}"
        }
    }

    /// One line: what was found.
    public var summary: String {
        "\(model) \(version) monitored on \(name): \(features.driftedCount) of \(features.columns.count) features drifted"
            + (predictions.map { $0.drifted ? ", predictions drifted" : "" } ?? "") + (breached ? "; policy breached" : "")
    }

    public var body: String {
        var lines = ["Data: \(data.paths.joined(separator: ", ")) (\(data.rows) rows)."]
        let drifted = features.columns.filter(\.drifted)
        if !drifted.isEmpty {
            lines.append(
                "Drifted: " + drifted.map { "\($0.name) (\($0.test.rawValue) \(Self.number($0.score)))" }.joined(separator: ", ") + ".")
        }
        for rule in rules where !rule.passed { lines.append("Breached: \(rule.rule): \(rule.detail).") }
        return lines.joined(separator: "\n")
    }

    public var trailers: [(String, String)] {
        var trailers: [(String, String)] = [
            ("Drift-Share", Self.number(features.share)), ("Drifted-Features", "\(features.driftedCount)/\(features.columns.count)"),
            ("Dataset-Drift", features.drifted ? "true" : "false"), ("Rows", "\(data.rows)"),
        ]
        if let predictions { trailers.append(("Prediction-Drift", predictions.drifted ? "true" : "false")) }
        for metric in metrics { trailers.append(("Live-\(metric.name)", YAMLValue.format(metric.value))) }
        trailers.append(("Verdict", breached ? "breach" : "ok"))
        return trailers
    }

    /// For a pull request or an alert.
    public func markdown() -> String {
        var out = "### \(model) \(version): \(breached ? "monitoring policy breached" : "within the monitoring policy")\n\n"
        out +=
            "\(features.driftedCount) of \(features.columns.count) features drifted (share \(Self.number(features.share)); dataset "
            + (features.drifted ? "**drifted**" : "not drifted") + " at \(Self.number(options.datasetShare))), "
            + "\(data.rows) rows from \(data.paths.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: ", ")).\n\n"
        out += "| feature | type | test | score | threshold | drifted | PSI | missing |\n|---|---|---|---|---|---|---|---|\n"
        for (name, drift) in features.columns.map({ ($0.name, $0) }) + (predictions.map { [("*predictions*", $0)] } ?? []) {
            out +=
                "| \(name) | \(drift.kind.rawValue) | \(drift.test.rawValue) | \(Self.number(drift.score)) | \(Self.number(drift.threshold)) | "
                + (drift.drifted ? "**yes**" : "no") + " | \(Self.number(drift.psi)) | \(Self.number(drift.missingShare)) |\n"
        }
        if !metrics.isEmpty {
            out += "\n| metric | live | hold-out | delta |\n|---|---|---|---|\n"
            for metric in metrics {
                out +=
                    "| \(metric.name) | \(Self.number(metric.value)) | \(metric.holdout.map(Self.number) ?? "") | \(metric.delta.map(Self.number) ?? "") |\n"
            }
        }
        out += "\n| rule | result | detail |\n|---|---|---|\n"
        for rule in rules {
            out += "| `\(rule.rule)` | " + (rule.skipped ? "skipped" : rule.passed ? "ok" : "**breach**") + " | \(rule.detail) |\n"
        }
        return out
    }

    static func number(_ value: Double) -> String { value.isNaN ? "–" : String(format: "%.4g", value) }
}
