import ArgumentParser
import Registry

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "Show a model's versions, newest first.")

    @Argument(help: "Model name.")
    var model: String

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        try options.output.emit(VersionLog(versions: try options.open().versions(of: model)))
    }
}
