import ArgumentParser
import Foundation
import Registry

struct Checkout: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkout",
        abstract: "Restore a version's model folder in the work tree, or write it to another folder.")

    @OptionGroup var version: VersionArguments

    @Option(help: "Write the folder here instead of the work tree.")
    var to: String?

    @Flag(help: "Overwrite uncommitted changes (or a non-empty --to folder).")
    var force = false

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let registry = try options.open()
        let (resolved, count) = try registry.checkout(version.reference, model: version.model, to: to.map(options.url), force: force)
        try options.output.emit(CheckedOut(resolved: resolved, files: count, place: to ?? registry.folder(of: resolved.model)))
    }
}
