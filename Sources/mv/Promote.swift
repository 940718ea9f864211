import ArgumentParser
import Foundation
import Registry

struct Promote: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Assign a stage (default: production) to a version.",
        discussion: "Writes the GTO stage tag <model>#<stage>#N on the version's commit and commits .mv/stages/<model>.yaml.")

    @Argument(help: "The version: v3 (one model), churn@v3, churn@latest, churn#staging.")
    var reference: String

    @OptionGroup var stage: StageOptions

    @Flag(help: "Promote despite a failed gate, where the gate allows it (needs --reason).")
    var force = false

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        var request = PromoteRequest(reference: reference)
        request.model = stage.model
        request.stage = stage.stage
        request.reason = stage.reason
        request.force = force
        let result = try options.open().promote(request)
        try StageOutput.print(result, verb: "Promoted", json: options.json)
    }
}

struct Demote: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demote",
        abstract: "Unassign a stage; it falls back to its previous holder.",
        discussion: "Writes <model>#<stage>!#N on the holder's commit.")

    @Argument(help: "A model (whatever holds the stage) or a version holding it.")
    var reference: String

    @OptionGroup var stage: StageOptions

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let result = try options.open().demote(reference, model: stage.model, stage: stage.stage, reason: stage.reason)
        try StageOutput.print(result, verb: "Demoted", json: options.json)
    }
}

struct Deprecate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deprecate",
        abstract: "Deprecate a version: it can no longer be promoted, and stages it held fall back.",
        discussion: "Writes GTO's deregistration tag <model>@vX.Y.Z! on the version's commit.")

    @Argument(help: "The version: churn@v3, or v3 with one model.")
    var reference: String

    @Option(help: "The model, when the reference does not name one.")
    var model: String?

    @Option(name: [.customShort("m"), .customLong("message")], help: "Why.")
    var reason: String?

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let result = try options.open().deprecate(reference, model: model, reason: reason)
        try StageOutput.print(result, verb: "Deprecated", json: options.json)
    }
}

struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Roll a stage back to an earlier version, forward-only.",
        discussion: """
            Commits the model folder exactly as it was at that version and assigns the stage back to it.
            Without --to: the stage's previous holder. No history is rewritten, no tag moved or deleted.
            """)

    @Argument(help: "The model.")
    var model: String

    @Option(help: "The version to go back to (default: the stage's previous holder).")
    var to: String?

    @Option(help: "The stage.")
    var stage = "production"

    @Option(name: [.customShort("m"), .customLong("message"), .customLong("reason")], help: "Why.")
    var reason: String?

    @Flag(help: "Replace uncommitted changes in the model folder, and override a failed gate where allowed (needs --reason).")
    var force = false

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let result = try options.open().rollback(model: model, to: to, stage: stage, reason: reason, force: force)
        try StageOutput.print(result, verb: "Rolled back", json: options.json)
    }
}

/// The options of every stage change: which stage, which model, and why.
struct StageOptions: ParsableArguments {
    @Option(help: "The stage.")
    var stage = "production"

    @Option(help: "The model, when the reference does not name one.")
    var model: String?

    @Option(name: [.customShort("m"), .customLong("message"), .customLong("reason")], help: "Why (recorded in the tag and the commit).")
    var reason: String?
}

enum StageOutput {
    static func print(_ result: StageResult, verb: String, json: Bool) throws {
        if json {
            let gate: Any = result.gate.map { $0.jsonObject() as [String: Any] } as Any? ?? NSNull()
            try Terminal.json(["model": result.model, "version": result.version, "stage": result.stage,
                               "tag": result.tag ?? NSNull(), "commit": result.commit ?? NSNull(), "previous": result.previous ?? NSNull(),
                               "changed": result.tag != nil, "gate": gate])
            return
        }
        if let gate = result.gate, !gate.checks.isEmpty {
            Swift.print(gate.passed ? "Gate \(gate.stage): passed (\(gate.checks.count) checks)" : "Gate \(gate.stage): FAILED, overridden with --force")
        }
        guard let tag = result.tag, let commit = result.commit else {
            Swift.print("\(result.model)@\(result.version) already holds \(result.stage); nothing changed")
            return
        }
        switch verb {
        case "Promoted":
            Swift.print("Promoted \(result.model)@\(result.version) to \(result.stage)" + (result.previous.map { " (was \($0))" } ?? ""))
        case "Demoted":
            Swift.print("Demoted \(result.model)@\(result.version) from \(result.stage); now held by " + (result.previous ?? "no version"))
        case "Rolled back":
            Swift.print("Rolled back \(result.model) \(result.stage) to \(result.version)" + (result.previous.map { " (from \($0))" } ?? ""))
        default:
            Swift.print("\(verb) \(result.model)@\(result.version)")
        }
        Swift.print("Tagged \(tag), committed \(commit.prefix(8))")
    }
}
