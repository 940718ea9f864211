import ArgumentParser
import Foundation
import Registry

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

    @Flag(help: "Print machine-readable JSON on stdout.")
    var json = false

    func run() throws {
        let target = path ?? FileManager.default.currentDirectoryPath
        let (registry, outcome) = try Registry.initialize(at: target, textconvCommand: Executable.command("textconv"))
        let root = registry.workingDirectory?.path ?? target
        if json {
            try Terminal.json(["created_repository": outcome.createdRepository, "commit": outcome.commit ?? NSNull(),
                               "committed_files": outcome.committedFiles, "repository": root,
                               "models_root": registry.config.modelsRoot, "diff_driver": outcome.diffDriver ?? NSNull(),
                               "reassembled": outcome.reassembled])
            return
        }
        if outcome.createdRepository { print("Created a Git repository in \(root)") }
        if let commit = outcome.commit {
            print("Committed \(outcome.committedFiles.joined(separator: " and ")) (\(commit.prefix(8)))")
        } else {
            print("Already initialized: \(root)")
        }
        print("Tensor diffs: git diff renders *.npy through '\(outcome.diffDriver ?? "-")'")
        for path in outcome.reassembled { print("Assembled \(path) from its chunks") }
        print("Models live under \(registry.config.modelsRoot)/. Next: mv train <model> --data train.csv --target y")
    }
}

/// How git should call this mv binary back (for the textconv driver and hooks).
enum Executable {
    static var path: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    static func command(_ subcommand: String) -> String {
        let quoted = path.contains(" ") ? "'\(path)'" : path
        return "\(quoted) \(subcommand)"
    }

    /// `git-model` when this very binary is the one on PATH under that name, else its
    /// absolute path, so hooks keep working for whoever runs git.
    static func hookCommand() -> String {
        let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for folder in searchPath.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent("git-model").path
            if FileManager.default.isExecutableFile(atPath: candidate),
               URL(fileURLWithPath: candidate).resolvingSymlinksInPath().path == URL(fileURLWithPath: path).resolvingSymlinksInPath().path {
                return "git-model"
            }
        }
        return path
    }
}
