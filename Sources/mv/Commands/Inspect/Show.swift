import ArgumentParser
import Registry

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a version's manifest summary and metrics.")

    @OptionGroup var version: VersionArguments

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        try options.output.emit(try options.open().details(version.reference, model: version.model))
    }
}
