import ArgumentParser
import Foundation
import ModelFormat
import Registry

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a version's manifest summary and metrics.")

    @Argument(help: "A model (its latest version), churn@v2, churn#production, v2 (one model), or a Git revision.")
    var reference: String

    @Option(help: "The model, when the reference does not name one.")
    var model: String?

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let details = try options.open().details(reference, model: model)
        let manifest = details.manifest
        if options.json {
            var hyperparameters: [String: Any] = [:]
            if case let .map(pairs) = manifest.hyperparameters {
                for (key, value) in pairs { hyperparameters[key] = value.jsonObject }
            }
            try Terminal.json([
                "model": manifest.name, "version": manifest.version, "tag": details.record.tag, "commit": details.record.commit,
                "date": Terminal.isoDate(details.record.date), "task": manifest.task, "algorithm": manifest.algorithm,
                "hyperparameters": hyperparameters,
                "features": manifest.features.map { ["name": $0.name, "type": $0.type] },
                "target": manifest.target.map { ["name": $0.name, "type": $0.type] as Any } ?? NSNull(),
                "lineage": [
                    "data": manifest.lineage.data.map { ["path": $0.path, "role": $0.role, "sha256": $0.sha256, "rows": $0.rows as Any] },
                    "code_commit": manifest.lineage.codeCommit as Any, "code_dirty": manifest.lineage.codeDirty,
                    "command": manifest.lineage.command, "seed": manifest.lineage.seed as Any,
                    "started_at": manifest.lineage.startedAt, "duration_seconds": manifest.lineage.durationSeconds,
                    "host": manifest.lineage.host, "mv_version": manifest.lineage.mvVersion,
                ],
                "params": manifest.params.map {
                    ["name": $0.name, "file": $0.file, "dtype": $0.dtype, "shape": $0.shape, "bytes": $0.bytes, "sha256": $0.sha256,
                     "min": $0.min, "max": $0.max, "mean": $0.mean, "std": $0.std, "l2_norm": $0.l2Norm] as [String: Any]
                },
                "evaluations": Dictionary(details.reports.map { ($0.name, Terminal.metricsObject($0.report.metrics)) }, uniquingKeysWith: { $1 }),
            ])
            return
        }
        print("\(manifest.name) \(manifest.version)  (\(details.record.tag), commit \(details.record.commit.prefix(8)), \(Terminal.date(details.record.date)))")
        print("task:       \(manifest.task)")
        print("algorithm:  \(manifest.algorithm)")
        if case let .map(pairs) = manifest.hyperparameters, !pairs.isEmpty {
            print("hyperparameters: " + pairs.map { "\($0.0)=\($0.1.stringValue ?? "…")" }.joined(separator: ", "))
        }
        if let target = manifest.target {
            print("features:   \(manifest.features.map(\.name).joined(separator: ", ")) -> \(target.name)")
        }
        for data in manifest.lineage.data {
            print("data:       \(data.path) (\(data.rows.map { "\($0) rows, " } ?? "")sha256 \(data.sha256.prefix(12)))")
        }
        print("code:       \(manifest.lineage.codeCommit.map { String($0.prefix(8)) } ?? "no commit")\(manifest.lineage.codeDirty ? " (dirty)" : "")")
        print("command:    \(manifest.lineage.command)")
        print("trained:    \(manifest.lineage.startedAt) on \(manifest.lineage.host) in \(String(format: "%.2f", manifest.lineage.durationSeconds)) s")
        print("")
        print(Terminal.table([["TENSOR", "DTYPE", "SHAPE", "MEAN", "STD", "SHA256"]] + manifest.params.map {
            [$0.name, $0.dtype, "[" + $0.shape.map(String.init).joined(separator: ", ") + "]", String(format: "%.6g", $0.mean),
             String(format: "%.6g", $0.std), String($0.sha256.prefix(12))]
        }))
        for (name, report) in details.reports {
            print("")
            print("evaluation \(name): \(report.dataset.path)\(report.selection.map { ", \($0)" } ?? "")")
            print(Terminal.table(report.metrics.map { ["  \($0.name)", String(format: "%.6g", $0.value)] }))
        }
    }
}
