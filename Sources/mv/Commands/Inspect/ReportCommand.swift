import ArgumentParser
import Foundation
import Registry
import Report

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract:
            "Write one self-contained HTML page of each model's history: versions, metrics across versions, stage events, monitoring.",
        discussion: "Inline SVG and CSS, no script and no network: it opens from an email attachment or a CI artifact.")

    @Argument(help: "Models to report on (default: every model).")
    var models: [String] = []

    @Option(name: [.customShort("o"), .customLong("output")], help: "The HTML file to write ('-': standard output).")
    var output = "report.html"

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let page = try HistoryPage.html(try options.open(), models: models)
        if output == "-" {
            print(page, terminator: "")
            return
        }
        let url = options.url(output)
        do {
            try Data(page.utf8).write(to: url, options: .atomic)
        } catch {
            throw MVError("cannot write '\(url.path)': \(error.localizedDescription)", hint: "pick a folder you can write to with -o")
        }
        print("wrote \(url.path) (\(page.utf8.count / 1024 + 1) KiB)")
    }
}
