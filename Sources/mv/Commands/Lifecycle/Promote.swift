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
        try options.output.emit(StageChange(result: try options.open().promote(request), verb: .promoted))
    }
}
