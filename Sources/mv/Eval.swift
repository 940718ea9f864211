import ArgumentParser
import Foundation
import Registry

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a version on a dataset and commit the report with an evaluation tag.",
        discussion: "Parameters are read from Git objects, not the work tree. The report lands in <model>/eval/<name>.yaml; the tag is eval/<model>/<version>/<N>.")

    @OptionGroup var version: VersionArguments

    @Option(help: "Evaluation data (CSV with the model's feature columns and its target).")
    var data: String

    @Option(help: "Report name (default: the data file's name without extension).")
    var name: String?

    @Flag(help: "Replace an uncommitted report of the same name.")
    var force = false

    @Flag(name: .customLong("ignore-unknown-categories"), help: "Encode categories unseen in training as all zeros instead of refusing them.")
    var ignoreUnknownCategories = false

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let registry = try options.open()
        var request = EvalRequest(reference: version.reference, data: options.url(data))
        request.ignoreUnknownCategories = ignoreUnknownCategories
        request.model = version.model
        request.name = name
        request.force = force
        let result = try registry.evaluate(request)
        if options.json {
            try Terminal.json(["model": result.model, "version": result.version, "name": result.name, "rows": result.rows,
                               "metrics": Terminal.metricsObject(result.metrics), "commit": result.commit, "tag": result.tag,
                               "report": result.reportPath])
            return
        }
        print("Evaluated \(result.model) \(result.version) on \(result.rows) rows (\(result.name))")
        print(Terminal.table(result.metrics.map { ["  \($0.name)", String(format: "%.6g", $0.value)] }))
        print("Committed \(result.commit.prefix(8)) (\(result.reportPath)), tagged \(result.tag)")
    }
}

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
        let place = to ?? registry.folder(of: resolved.model)
        if options.json {
            try Terminal.json(["model": resolved.model.value, "version": resolved.version?.description ?? NSNull(),
                               "commit": resolved.commit.description, "files": count, "path": place])
        } else {
            print("Checked out \(resolved.label) into \(place) (\(count) files)")
        }
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a version's parameters as .npy files or one .safetensors file.")

    @OptionGroup var version: VersionArguments

    @Option(help: "npy (a folder of .npy files) or safetensors (one file).")
    var format: String = "npy"

    @Option(name: .shortAndLong, help: "Output folder (npy) or file (safetensors).")
    var output: String

    @Flag(help: "Replace an existing output.")
    var force = false

    @OptionGroup var options: RepositoryOptions

    func validate() throws {
        guard ExportFormat(rawValue: format) != nil else { throw ValidationError("--format must be npy or safetensors") }
    }

    func run() throws {
        let (registry, progress) = try options.openWithProgress()
        let (resolved, count) = try registry.export(version.reference, model: version.model, format: ExportFormat(rawValue: format) ?? .npy,
                                                    to: options.url(output), force: force)
        progress.finish()
        if options.json {
            try Terminal.json(["model": resolved.model.value, "version": resolved.version?.description ?? NSNull(),
                               "format": format, "tensors": count, "path": output])
        } else {
            print("Exported \(count) tensors of \(resolved.label) to \(output) (\(format))")
        }
    }
}

/// Which version a command acts on.
struct VersionArguments: ParsableArguments {
    @Argument(help: "The version: churn@v3, v3 (one model), churn#production, churn@latest, or a Git revision.")
    var reference: String

    @Option(help: "The model, when the reference does not name one.")
    var model: String?
}
