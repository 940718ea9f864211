import ArgumentParser
import Registry

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show a model's event journal, newest first.",
        discussion: "Versions, evaluations, promotions, demotions, deprecations and rollbacks, read from tags.")

    @Argument(help: "Model name.")
    var model: String

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        try options.output.emit(EventJournal(entries: try options.open().history(of: model)))
    }
}
