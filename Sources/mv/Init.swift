import ArgumentParser
import Foundation
import Registry

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start tracking models in a Git repository (created if needed).",
        discussion: "Commits .mv.yaml, mv's configuration. Running it again changes nothing.")

    @Argument(help: "The folder to initialise (default: the current one).")
    var path: String?

    @Flag(help: "Print machine-readable JSON on stdout.")
    var json = false

    func run() throws {
        let target = path ?? FileManager.default.currentDirectoryPath
        let (registry, outcome) = try Registry.initialize(at: target)
        let root = registry.workingDirectory?.path ?? target
        let (state, message): (String, String) = switch outcome {
        case let .created(commit): ("created", "Created a Git repository in \(root) and committed .mv.yaml (\(commit.prefix(8)))")
        case let .configCommitted(commit): ("initialized", "Committed .mv.yaml in \(root) (\(commit.prefix(8)))")
        case .alreadyInitialized: ("unchanged", "Already initialized: \(root) (.mv.yaml is committed)")
        }
        if json {
            try Terminal.json(["state": state, "repository": root, "models_root": registry.config.modelsRoot])
        } else {
            print(message)
            print("Models live under \(registry.config.modelsRoot)/. Next: mv train <model> --data train.csv --target y")
        }
    }
}
