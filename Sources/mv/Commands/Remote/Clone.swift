import ArgumentParser
import Foundation
import Registry

struct Clone: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clone",
        abstract: "Clone a registry and set it up as 'mv init' would (tensor diffs, reassembled chunks).")

    @Argument(help: "The repository to clone (any URL or path git accepts).")
    var url: String

    @Argument(help: "The folder to clone into (default: the repository's name).")
    var folder: String?

    func run() throws {
        let target = try Registry.clone(url, into: folder, textconvCommand: Executable.command("textconv"))
        print("cloned '\(url)' into \(target.path)")
    }
}
