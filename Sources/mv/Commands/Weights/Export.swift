import ArgumentParser
import Foundation
import Registry

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a version's parameters as .npy files or one .safetensors file.")

    @OptionGroup var version: VersionArguments

    @Option(help: "npy (a folder of .npy files) or safetensors (one file).")
    var format: ExportFormat = .npy

    @Option(name: .shortAndLong, help: "Output folder (npy) or file (safetensors).")
    var output: String

    @Flag(help: "Replace an existing output.")
    var force = false

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let (registry, progress) = try options.openWithProgress()
        let (resolved, count) = try registry.export(
            version.reference, model: version.model, format: format, to: options.url(output), force: force)
        progress.finish()
        try options.output.emit(Exported(resolved: resolved, tensors: count, format: format, path: output))
    }
}
