import ArgumentParser
import Foundation
import Registry

/// The `mv` command: model versioning on Git history.
@main
struct MV: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mv",
        abstract: "Version, evaluate and promote ML models as Git history.",
        discussion: "Installed as 'git-model' (so 'git model …' works) to keep coreutils' mv usable.",
        version: Registry.mvVersion,
        subcommands: [Init.self, Train.self, Add.self, Eval.self, Predict.self, Gate.self, Promote.self, Demote.self, Deprecate.self, Rollback.self,
                      List.self, Show.self, Log.self, History.self, Diff.self, Checkout.self, Export.self, Verify.self,
                      Algorithms.self, ExampleDataCommand.self, Hooks.self, Hook.self, TextConv.self])

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
        } catch let error as MVError {
            if let details = error.details { FileHandle.standardError.write(Data(details.utf8)) }
            Terminal.error(error.message, hint: error.hint)
            Registry.finishBackgroundSetup()
            Foundation.exit(error.exitCode)
        } catch {
            Registry.finishBackgroundSetup()
            // argument-parser's own errors (help, usage, exit codes) keep its handling.
            if String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") { exit(withError: error) }
            Terminal.error(String(describing: error).replacingOccurrences(of: "\n", with: " "), hint: nil)
            Foundation.exit(1)
        }
    }
}

/// Options every subcommand shares.
struct RepositoryOptions: ParsableArguments {
    @Option(name: [.customShort("C"), .customLong("repo")], help: "Run as if mv was started in this folder.")
    var repo: String = FileManager.default.currentDirectoryPath

    @Flag(help: "Print machine-readable JSON on stdout.")
    var json = false

    @Flag(name: [.short, .long], help: "No progress line on long operations.")
    var quiet = false

    func open() throws -> Registry { try Registry.open(at: repo) }

    /// Opens the registry with a progress line for long operations.
    func openWithProgress() throws -> (Registry, ProgressLine) {
        let registry = try open()
        let line = ProgressLine(quiet: quiet || json)
        registry.progress = { done, total, label in line.update(done: done, total: total, label: label) }
        return (registry, line)
    }

    /// A path the user typed, relative to where mv runs (or to -C).
    func url(_ path: String) -> URL {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: repo, isDirectory: true)).standardizedFileURL
    }
}
