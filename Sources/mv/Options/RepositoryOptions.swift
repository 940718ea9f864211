import ArgumentParser
import Foundation
import Registry

/// Options every command that opens the repository shares.
struct RepositoryOptions: ParsableArguments {
    @Option(name: [.customShort("C"), .customLong("repo")], help: "Run as if mv was started in this folder.")
    var repo: String = FileManager.default.currentDirectoryPath

    @Flag(help: "Print machine-readable JSON on stdout.")
    var json = false

    @Flag(name: [.short, .long], help: "No progress line on long operations.")
    var quiet = false

    /// Opens the registry; what it recovers or warns about is printed on stderr.
    func open() throws -> Registry {
        let registry = try Registry.open(at: repo)
        registry.notice = Terminal.notice
        return registry
    }

    /// Opens the registry with a progress line for long operations.
    func openWithProgress() throws -> (Registry, ProgressLine) {
        let registry = try open()
        let line = ProgressLine(quiet: quiet || json)
        registry.progress = { done, total, label in line.update(done: done, total: total, label: label) }
        return (registry, line)
    }

    /// Where results go: text, or JSON with --json.
    var output: Output { Output(json: json) }

    /// A path the user typed, relative to where mv runs (or to -C).
    func url(_ path: String) -> URL {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: repo, isDirectory: true)).standardizedFileURL
    }
}
