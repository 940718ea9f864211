import ArgumentParser
import Foundation
import Registry

struct Gate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Check a version against a stage's metric gates.",
        discussion: "Prints every rule with the actual value, the bound and pass/fail; exits 1 when any fails. Gates live in .mv.yaml (docs/GATES.md).")

    @Argument(help: "The version: churn@v3, v3 (one model), churn@latest, churn#staging, or a Git revision.")
    var reference: String

    @Option(help: "The stage whose gates to check ('commit' for the pre-commit rules).")
    var stage = "production"

    @Option(help: "The model, when the reference does not name one.")
    var model: String?

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let report = try options.open().gate(reference, model: model, stage: stage)
        if options.json {
            try Terminal.json(report.jsonObject())
        } else {
            print(report.text(), terminator: "")
        }
        if !report.passed { throw ExitCode(1) }
    }
}
