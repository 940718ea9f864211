import ArgumentParser
import Foundation
import Registry

struct Clone: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clone",
        abstract: "Clone a registry and set it up as 'mv init' would (tensor diffs, reassembled chunks).",
        discussion: """
            With LFS storage, only the tensors of the checked-out versions and of every stage
            holder are downloaded; another version's come when a command reads it.
            """)

    @Argument(help: "The repository to clone (any URL or path git accepts).")
    var url: String

    @Argument(help: "The folder to clone into (default: the repository's name).")
    var folder: String?

    @Flag(name: .shortAndLong, help: "No progress line while tensors download.")
    var quiet = false

    func run() throws {
        let line = ProgressLine(quiet: quiet)
        let (target, lfs) = try Registry.clone(
            url, into: folder, textconvCommand: Executable.command("textconv"), notice: Terminal.notice,
            progress: { done, total, label in line.update(done: done, total: total, label: label) })
        line.finish()
        print("cloned '\(url)' into \(target.path)")
        if lfs.objects > 0 || lfs.present > 0 { print(LFSSummary(lfs, direction: .down).text, terminator: "") }
    }
}
