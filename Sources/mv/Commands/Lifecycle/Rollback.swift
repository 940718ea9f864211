import ArgumentParser
import Registry

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
        try options.output.emit(StageChange(result: result, verb: .rolledBack))
    }
}
