import ArgumentParser
import Registry

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
        try options.output.emit(StageChange(result: result, verb: .demoted))
    }
}
