import ArgumentParser
import Foundation
import Registry

struct Gate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Check a version against a stage's metric gates.",
        discussion:
            "Prints every rule with the actual value, the bound and pass/fail; exits 1 when any fails. Gates live in .mv.yaml (docs/GATES.md)."
    )

    @OptionGroup var version: VersionArguments

    @Option(help: "The stage whose gates to check ('commit' for the pre-commit rules).")
    var stage = "production"

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let report = try options.open().gate(version.reference, model: version.model, stage: stage)
        try options.output.emit(report)
        if !report.passed { throw ExitCode(1) }
    }
}
