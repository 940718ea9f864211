import ArgumentParser
import Foundation
import Registry

struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Register externally trained weights as a new version.",
        discussion: """
            mv add bert --weights model.safetensors [--metrics eval/holdout.yaml] [--params params.yaml]
            Each tensor becomes its own .npy file (BF16 as uint16 bits). A single .safetensors file is
            kept reproducible: 'mv export <ref> --format safetensors' writes it back byte for byte.
            """)

    @Argument(help: "Model name.")
    var model: String

    @Option(help: "A .safetensors file, a .npy file, or a folder of them.")
    var weights: String

    @Option(help: "Metrics (YAML/JSON: name → number), stored as eval/<file name>.yaml.")
    var metrics: String?

    @Option(name: .customLong("params"), help: "Hyperparameters (YAML/JSON mapping), stored in the manifest.")
    var hyperparameters: String?

    @Option(help: "regression or classification.")
    var task: String?

    @Option(help: "Version to create (default: the next major version).")
    var version: String?

    @Flag(help: "Replace uncommitted changes in the model folder.")
    var force = false

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let (registry, progress) = try options.openWithProgress()
        var request = AddRequest(model: model, weights: options.url(weights))
        request.metrics = metrics.map(options.url)
        request.hyperparameters = hyperparameters.map(options.url)
        request.task = task
        request.version = version
        request.force = force
        request.commandLine = ["mv"] + Array(CommandLine.arguments.dropFirst())
        let result = try registry.add(request)
        progress.finish()
        if options.json {
            try Terminal.json(["model": result.model, "version": result.version, "tag": result.tag, "commit": result.commit,
                               "branch": result.branch, "metrics": Terminal.metricsObject(result.metrics)])
            return
        }
        print("Registered \(result.model) \(result.version) from \(weights)")
        if !result.metrics.isEmpty { print(Terminal.table(result.metrics.map { ["  \($0.name)", String(format: "%.6g", $0.value)] })) }
        print("Committed \(result.commit.prefix(8)) on \(result.branch), tagged \(result.tag)")
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-hash a version's tensors from Git objects and compare with the manifest.",
        discussion: "Exits 1 and names every tensor whose bytes do not match its recorded sha256.")

    @Argument(help: "The version (default: the latest of the only model).")
    var reference: String?

    @Option(help: "The model, when the reference does not name one.")
    var model: String?

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let registry = try options.open()
        let reference = try self.reference ?? registry.defaultReference(model: model)
        let (resolved, results) = try registry.verify(reference, model: model)
        let bad = results.filter { !$0.ok }
        if options.json {
            try Terminal.json(["version": resolved.label, "tensors": results.count, "ok": bad.isEmpty,
                               "mismatches": bad.map { ["tensor": $0.tensor, "file": $0.file] }])
        } else if bad.isEmpty {
            print("\(resolved.label): all \(results.count) tensors match their sha256")
        }
        guard bad.isEmpty else {
            throw MVError("\(resolved.label): \(bad.count) of \(results.count) tensors do not match their sha256: "
                          + bad.map { "'\($0.tensor)' (\($0.file))" }.joined(separator: ", "),
                          hint: "the stored objects were altered; restore them from another clone or a backup")
        }
    }
}
