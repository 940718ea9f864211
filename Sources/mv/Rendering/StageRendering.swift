import Foundation
import Registry

/// A stage change (`mv promote`, `demote`, `deprecate`, `rollback`) and how to word it.
struct StageChange: Rendered {
    enum Verb: String {
        case promoted = "Promoted"
        case demoted = "Demoted"
        case deprecated = "Deprecated"
        case rolledBack = "Rolled back"
    }

    let result: StageResult
    let verb: Verb

    var text: String {
        var lines: [String] = []
        if let gate = result.gate, !gate.checks.isEmpty {
            lines.append(
                gate.passed
                    ? "Gate \(gate.stage): passed (\(gate.checks.count) checks)" : "Gate \(gate.stage): FAILED, overridden with --force")
        }
        guard let tag = result.tag, let commit = result.commit else {
            lines.append("\(result.model)@\(result.version) already holds \(result.stage); nothing changed")
            return lines.joined(separator: "\n") + "\n"
        }
        switch verb {
        case .promoted:
            lines.append("Promoted \(result.model)@\(result.version) to \(result.stage)" + (result.previous.map { " (was \($0))" } ?? ""))
        case .demoted:
            lines.append("Demoted \(result.model)@\(result.version) from \(result.stage); now held by " + (result.previous ?? "no version"))
        case .rolledBack:
            lines.append(
                "Rolled back \(result.model) \(result.stage) to \(result.version)" + (result.previous.map { " (from \($0))" } ?? ""))
        case .deprecated:
            lines.append("Deprecated \(result.model)@\(result.version)")
        }
        lines.append("Tagged \(tag), committed \(commit.prefix(8))")
        return lines.joined(separator: "\n") + "\n"
    }

    var json: Any {
        let gate: Any = result.gate?.json ?? NSNull()
        return [
            "model": result.model, "version": result.version, "stage": result.stage,
            "tag": result.tag ?? NSNull(), "commit": result.commit ?? NSNull(), "previous": result.previous ?? NSNull(),
            "changed": result.tag != nil, "gate": gate,
        ] as [String: Any]
    }
}
