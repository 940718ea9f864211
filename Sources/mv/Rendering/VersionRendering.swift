import Foundation
import ModelFormat
import Registry

/// A version that landed through `mv train` or `mv add`.
struct LandedVersion: Rendered {
    let result: TrainResult
    /// What to call the input in the first line (`mv add`'s weights); nil for a training.
    var weights: String?

    var text: String {
        var lines: [String] = []
        if let weights {
            lines.append("Registered \(result.model) \(result.version) from \(weights)")
        } else {
            lines.append(
                "Trained \(result.model) \(result.version)"
                    + (result.testRows > 0 ? " (\(result.trainRows) training rows, \(result.testRows) held out)" : ""))
        }
        if !result.metrics.isEmpty { lines.append(Terminal.metricTable(result.metrics)) }
        lines.append("Committed \(result.commit.prefix(8)) on \(result.branch), tagged \(result.tag)")
        return lines.joined(separator: "\n") + "\n"
    }

    var json: Any {
        var object: [String: Any] = [
            "model": result.model, "version": result.version, "tag": result.tag, "commit": result.commit,
            "branch": result.branch, "metrics": Terminal.metricsObject(result.metrics),
        ]
        if weights == nil {
            object["train_rows"] = result.trainRows
            object["test_rows"] = result.testRows
        }
        return object
    }
}

extension EvalResult: Rendered {
    var text: String {
        "Evaluated \(model) \(version) on \(rows) rows (\(name))\n" + Terminal.metricTable(metrics) + "\n"
            + "Committed \(commit.prefix(8)) (\(reportPath)), tagged \(tag)\n"
    }

    var json: Any {
        [
            "model": model, "version": version, "name": name, "rows": rows, "metrics": Terminal.metricsObject(metrics), "commit": commit,
            "tag": tag, "report": reportPath,
        ]
    }
}

/// `mv list`.
struct ModelList: Rendered {
    let models: [ModelSummary]

    var text: String {
        guard !models.isEmpty else { return "No models yet. Train one: mv train <model> --data train.csv --target y\n" }
        var rows = [["MODEL", "LATEST", "VERSIONS", "STAGES", "DATE", "METRICS"]]
        rows += models.map { model in
            let stages = model.stages.keys.sorted().map { "\($0)=\(model.stages[$0] ?? "")" }.joined(separator: " ")
            return [
                model.name + (model.deprecated ? " (deprecated)" : ""), model.latest?.version.description ?? "-",
                String(model.versionCount), stages.isEmpty ? "-" : stages,
                Terminal.date(model.latest?.date), Terminal.metrics(model.latest?.metrics ?? []),
            ]
        }
        return Terminal.table(rows) + "\n"
    }

    var json: Any {
        models.map { model -> [String: Any] in
            var object: [String: Any] = [
                "name": model.name, "versions": model.versionCount, "stages": model.stages,
                "deprecated": model.deprecated,
            ]
            if let latest = model.latest {
                object["latest"] = [
                    "version": latest.version.description, "tag": latest.tag, "commit": latest.commit,
                    "date": Terminal.isoDate(latest.date), "metrics": Terminal.metricsObject(latest.metrics),
                ]
            } else {
                object["latest"] = NSNull()
            }
            return object
        }
    }
}

/// `mv log`.
struct VersionLog: Rendered {
    let versions: [VersionRecord]

    var text: String {
        var rows = [["VERSION", "DATE", "COMMIT", "AUTHOR", "METRICS"]]
        rows += versions.map { record in
            [
                record.version.description, Terminal.date(record.date), String(record.commit.prefix(8)), record.author ?? "-",
                Terminal.metrics(record.metrics),
            ]
        }
        return Terminal.table(rows) + "\n"
    }

    var json: Any {
        versions.map { record -> [String: Any] in
            [
                "version": record.version.description, "tag": record.tag, "commit": record.commit,
                "date": Terminal.isoDate(record.date), "author": record.author ?? NSNull(),
                "metrics": Terminal.metricsObject(record.metrics),
            ]
        }
    }
}

/// `mv history`.
struct EventJournal: Rendered {
    let entries: [HistoryEntry]

    var text: String {
        var rows = [["DATE", "EVENT", "VERSION", "STAGE", "TAG", "DETAIL"]]
        rows += entries.map { entry in
            [Terminal.date(entry.time), entry.event, entry.version ?? "-", entry.stage ?? "-", entry.tag, entry.detail]
        }
        return Terminal.table(rows) + "\n"
    }

    var json: Any {
        entries.map { entry -> [String: Any] in
            [
                "time": Terminal.isoDate(entry.time), "event": entry.event, "version": entry.version ?? NSNull(),
                "stage": entry.stage ?? NSNull(), "tag": entry.tag, "commit": entry.commit,
                "author": entry.author ?? NSNull(), "detail": entry.detail,
            ]
        }
    }
}

extension VersionDetails: Rendered {
    var text: String {
        var lines: [String] = []
        lines.append(
            "\(manifest.name) \(manifest.version)  (\(record.tag), commit \(record.commit.prefix(8)), \(Terminal.date(record.date)))")
        lines.append("task:       \(manifest.task)")
        lines.append("algorithm:  \(manifest.algorithm)")
        if case .map(let pairs) = manifest.hyperparameters, !pairs.isEmpty {
            lines.append("hyperparameters: " + pairs.map { "\($0.0)=\($0.1.stringValue ?? "…")" }.joined(separator: ", "))
        }
        if let target = manifest.target {
            lines.append("features:   \(manifest.features.map(\.name).joined(separator: ", ")) -> \(target.name)")
        }
        for data in manifest.lineage.data {
            lines.append("data:       \(data.path) (\(data.rows.map { "\($0) rows, " } ?? "")sha256 \(data.sha256.prefix(12)))")
        }
        lines.append(
            "code:       \(manifest.lineage.codeCommit.map { String($0.prefix(8)) } ?? "no commit")\(manifest.lineage.codeDirty ? " (dirty)" : "")"
        )
        lines.append("command:    \(manifest.lineage.command)")
        lines.append(
            "trained:    \(manifest.lineage.startedAt) on \(manifest.lineage.host) in \(String(format: "%.2f", manifest.lineage.durationSeconds)) s"
        )
        lines.append("")
        lines.append(
            Terminal.table(
                [["TENSOR", "DTYPE", "SHAPE", "MEAN", "STD", "SHA256"]]
                    + manifest.params.map {
                        [
                            $0.name, $0.dtype, "[" + $0.shape.map(String.init).joined(separator: ", ") + "]",
                            String(format: "%.6g", $0.mean),
                            String(format: "%.6g", $0.std), String($0.sha256.prefix(12)),
                        ]
                    }))
        for (name, report) in reports {
            lines.append("")
            lines.append("evaluation \(name): \(report.dataset.path)\(report.selection.map { ", \($0)" } ?? "")")
            lines.append(Terminal.metricTable(report.metrics))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    var json: Any {
        var hyperparameters: [String: Any] = [:]
        if case .map(let pairs) = manifest.hyperparameters {
            for (key, value) in pairs { hyperparameters[key] = value.jsonObject }
        }
        return [
            "model": manifest.name, "version": manifest.version, "tag": record.tag, "commit": record.commit,
            "date": Terminal.isoDate(record.date), "task": manifest.task, "algorithm": manifest.algorithm,
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
                [
                    "name": $0.name, "file": $0.file, "dtype": $0.dtype, "shape": $0.shape, "bytes": $0.bytes, "sha256": $0.sha256,
                    "min": $0.min, "max": $0.max, "mean": $0.mean, "std": $0.std, "l2_norm": $0.l2Norm,
                ] as [String: Any]
            },
            "evaluations": Dictionary(reports.map { ($0.name, Terminal.metricsObject($0.report.metrics)) }, uniquingKeysWith: { $1 }),
        ]
    }
}
