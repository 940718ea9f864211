import ArgumentParser
import Foundation
import Registry

struct Retrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrain",
        abstract: "Train the next version with the recipe a version recorded, on new data.",
        discussion: """
            Repeats the algorithm, hyperparameters, preprocessing, target, test size and seed (or your training \
            command, run again with MV_DATA set to the new data). The new version's lineage names its parent and why; \
            it passes through the gates like any other when promoted.
            """)

    @Argument(help: "The version to repeat: the model (its production holder, else its latest), model@vX or model#stage.")
    var reference: String

    @Option(help: "The new training data (CSV with the same columns).")
    var data: String

    @Option(name: [.customShort("m"), .customLong("reason")], help: "Why (recorded in the lineage and the commit).")
    var reason: String?

    @Option(help: "The monitoring tag that called for it, e.g. monitor/churn/v3.0.0/2 (recorded as the reason).")
    var monitoring: String?

    @OptionGroup var newVersion: NewVersionOptions

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        var request = RetrainRequest(reference: reference, data: options.url(data))
        request.reason = reason
        request.monitoring = monitoring
        request.version = newVersion.version
        request.force = newVersion.force
        request.commandLine = ["mv"] + Array(CommandLine.arguments.dropFirst())
        try options.output.emit(LandedVersion(result: try options.open().retrain(request)))
    }
}
