import ArgumentParser
import Foundation
import Registry

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a version on a dataset and commit the report with an evaluation tag.",
        discussion:
            "Parameters are read from Git objects, not the work tree. The report lands in <model>/eval/<name>.yaml; the tag is eval/<model>/<version>/<N>."
    )

    @OptionGroup var version: VersionArguments

    @Option(help: "Evaluation data (CSV with the model's feature columns and its target).")
    var data: String

    @Option(help: "Report name (default: the data file's name without extension).")
    var name: String?

    @Flag(help: "Replace an uncommitted report of the same name.")
    var force = false

    @Flag(
        name: .customLong("ignore-unknown-categories"), help: "Encode categories unseen in training as all zeros instead of refusing them.")
    var ignoreUnknownCategories = false

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        var request = EvalRequest(reference: version.reference, data: options.url(data))
        request.ignoreUnknownCategories = ignoreUnknownCategories
        request.model = version.model
        request.name = name
        request.force = force
        try options.output.emit(try options.open().evaluate(request))
    }
}
