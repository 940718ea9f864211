import ArgumentParser
import Foundation
import Registry
import TensorStore

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Start tracking models in a Git repository (created if needed).",
        discussion: """
            Commits .mv.yaml (mv's configuration) and a .gitattributes line that makes git render
            .npy tensors as text, and points this clone's git config at mv for that. Running it
            again changes nothing; run it once in a fresh clone to get readable tensor diffs.
            """)

    @Argument(help: "The folder to initialise (default: the current one).")
    var path: String?

    @Option(
        help: ArgumentHelp(
            "Where new tensors' bytes go: git (Git blobs, the default) or lfs (Git LFS objects, for Git hosts).",
            valueName: "git|lfs"))
    var storage: String?

    @Flag(help: "Print machine-readable JSON on stdout.")
    var json = false

    func run() throws {
        let target = path ?? FileManager.default.currentDirectoryPath
        let chosen = try storage.map { name in
            guard let storage = TensorStorage(rawValue: name) else {
                throw ValidationError("--storage must be 'git' or 'lfs', not '\(name)'")
            }
            return storage
        }
        let (registry, outcome) = try Registry.initialize(
            at: target, textconvCommand: Executable.command("textconv"), storage: chosen, notice: Terminal.notice)
        try Output(json: json).emit(
            Initialized(
                outcome: outcome, root: registry.workingDirectory?.path ?? target,
                modelsRoot: registry.config.modelsRoot))
    }
}
