import ArgumentParser
import Foundation
import Registry
import Report

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what changed between two versions: hyperparameters, metrics, tensors, lineage.",
        discussion: "Versions: v2 (one model), churn@v3.1.0, churn#production, churn@latest, or any Git revision.")

    @Argument(help: "The old version.")
    var old: String

    @Argument(help: "The new version.")
    var new: String

    @Option(help: "The model, when the references do not name one.")
    var model: String?

    @Flag(help: "Markdown, for a pull-request comment.")
    var markdown = false

    @Flag(help: "Color metrics by better/worse (default: when stdout is a terminal).")
    var color = false

    @Flag(name: .customLong("no-color"), help: "Never color.")
    var noColor = false

    @Option(
        name: .customLong("html"),
        help: ArgumentHelp("Write the comparison as a self-contained HTML page to this file ('-': standard output).", valueName: "file"))
    var html: String?

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let diff = try options.open().diff(old, new, model: model)
        if let html {
            try HTMLFile.write(DiffPage.html(diff), to: html, options: options)
            return
        }
        let useColor = !noColor && (color || (isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil))
        try options.output.emit(DiffReport(diff: diff, form: markdown ? .markdown : .text(color: useColor)))
    }
}
