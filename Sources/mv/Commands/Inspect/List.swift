import ArgumentParser
import Registry

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List models and their latest versions.")

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        try options.output.emit(ModelList(models: try options.open().models()))
    }
}
