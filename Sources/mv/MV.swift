// mv: the command line. Each subcommand (Commands/<group>/<Command>.swift) parses its
// arguments with swift-argument-parser, calls the domain (Registry) once, and hands the
// result to the rendering layer (Rendering/), which alone formats text, Markdown and JSON.
// Shared option groups live in Options/. No logic lives here that a test could not reach
// through the library: a command only translates between the command line and Registry.

import ArgumentParser
import Foundation
import Registry
import SystemIO

/// The `mv` command: model versioning on Git history.
@main
struct MV: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mv",
        abstract: "Version, evaluate and promote ML models as Git history.",
        discussion: "Installed as 'git-model' (so 'git model …' works) to keep coreutils' mv usable.",
        version: Registry.mvVersion,
        subcommands: [Hook.self, TextConv.self],
        groupedSubcommands: [
            CommandGroup(name: "Versions", subcommands: [Init.self, Train.self, Add.self, Eval.self, Predict.self]),
            CommandGroup(name: "Lifecycle", subcommands: [Gate.self, Promote.self, Demote.self, Deprecate.self, Rollback.self]),
            CommandGroup(name: "Deploy", subcommands: [Serve.self, MonitorCommand.self, Retrain.self]),
            CommandGroup(
                name: "Inspect", subcommands: [Status.self, List.self, Show.self, Log.self, History.self, Diff.self, ReportCommand.self]),
            CommandGroup(name: "Weights", subcommands: [Checkout.self, Export.self, Verify.self]),
            CommandGroup(name: "Remotes", subcommands: [Push.self, Pull.self, Clone.self]),
            CommandGroup(name: "Hooks", subcommands: [Hooks.self]),
            CommandGroup(name: "Built-ins", subcommands: [Algorithms.self, ExampleDataCommand.self]),
        ])

    /// Usage errors keep argument-parser's format and exit 64; failures while running are
    /// one `mv: error:` line, an optional `hint:` line, and the operation's exit status.
    static func main() {
        PhaseTrace.mark("main")
        // Past a file-size limit (`ulimit -f`) the kernel would kill mv mid-write with
        // SIGXFSZ, leaving its temporary files; ignored, the write fails with EFBIG, which mv
        // reports and cleans up after like a full disk.
        signal(SIGXFSZ, SIG_IGN)
        Registry.prepareInBackground()
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            Registry.finishBackgroundSetup()
            exit(withError: error)
        }
        do {
            try command.run()
            PhaseTrace.mark("done")
            Registry.finishBackgroundSetup()
        } catch let error as UserError {
            if let failure = error as? MVError {
                for report in failure.gateReports { FileHandle.standardError.write(Data(report.text.utf8)) }
            }
            Terminal.error(error.message, hint: error.hint)
            Registry.finishBackgroundSetup()
            Foundation.exit(error.exitCode)
        } catch {
            Registry.finishBackgroundSetup()
            // argument-parser's own errors (help, usage, exit codes) keep its handling.
            if String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") { exit(withError: error) }
            Terminal.error(Terminal.describe(error), hint: nil)
            Foundation.exit(1)
        }
    }
}
