import ArgumentParser
import Foundation
import Registry
import Report

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract:
            "Write one self-contained HTML page of each model's history: versions, metrics, stages, loss curves, predictions, tensor changes, drift.",
        discussion: "Inline SVG and CSS, no script and no network: it opens from an email attachment or a CI artifact.")

    @Argument(help: "Models to report on (default: every model).")
    var models: [String] = []

    @Option(name: [.customShort("o"), .customLong("output")], help: "The HTML file to write ('-': standard output).")
    var output = "report.html"

    @Flag(help: "Open the written page in the desktop's browser (xdg-open).")
    var open = false

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        try HTMLFile.write(try HistoryPage.html(try options.open(), models: models), to: output, options: options, open: open)
    }
}
