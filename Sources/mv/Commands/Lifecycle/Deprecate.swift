import ArgumentParser
import Registry

struct Deprecate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deprecate",
        abstract: "Deprecate a version: it can no longer be promoted, and stages it held fall back.",
        discussion: "Writes GTO's deregistration tag <model>@vX.Y.Z! on the version's commit.")

    @OptionGroup var version: VersionArguments

    @Option(name: [.customShort("m"), .customLong("message")], help: "Why.")
    var reason: String?

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let result = try options.open().deprecate(version.reference, model: version.model, reason: reason)
        try options.output.emit(StageChange(result: result, verb: .deprecated))
    }
}
