import Foundation
import Registry

extension RepositoryStatus: Rendered {
    var text: String {
        var lines: [String] = []
        if !recoveredNow.isEmpty {
            lines.append("Recovered now:")
            lines += recoveredNow.map { "  \($0)" }
        }
        if !earlier.isEmpty {
            lines.append("Recovered earlier:")
            lines += earlier.map { "  \($0)" }
        }
        if !models.isEmpty {
            lines.append("Models:")
            lines += Terminal.table(
                models.map { model in
                    [
                        "  \(model.folder)", model.latest ?? "-",
                        model.changes.isEmpty
                            ? "clean" : model.checkedOut.map { "holds \($0) (mv checkout)" } ?? "\(model.changes.count) changed path(s)",
                    ]
                }
            ).split(separator: "\n").map(String.init)
        }
        if needsUser.isEmpty {
            lines.append("Nothing needs you.")
        } else {
            lines.append("Needs you:")
            for problem in needsUser {
                lines.append("  \(problem.problem)")
                lines.append("    \(problem.command)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    var json: Any {
        [
            "recovered_now": recoveredNow, "recovered_earlier": earlier, "clean": isClean,
            "needs_user": needsUser.map { ["problem": $0.problem, "command": $0.command] },
            "models": models.map { model in
                [
                    "folder": model.folder, "latest": model.latest ?? NSNull(), "changes": model.changes,
                    "checked_out": model.checkedOut ?? NSNull(),
                ] as [String: Any]
            },
        ] as [String: Any]
    }
}
