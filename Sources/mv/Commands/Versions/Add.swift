import ArgumentParser
import Foundation
import Learning
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

    @Option(help: "The model's task.")
    var task: Task?

    @Option(
        name: .customLong("serve-command"),
        help: "The predictor 'mv serve' runs for this version, e.g. 'python3 predict.py' (docs/SERVING.md: the protocol).")
    var serveCommand: String?

    @Option(name: .customLong("serve-file"), help: "A file the predictor needs, committed in the version's serve/ folder (repeatable).")
    var serveFiles: [String] = []

    @Option(help: "A CSV of the inputs the model was trained on; its columns' distributions are recorded for 'mv monitor'.")
    var reference: String?

    @OptionGroup var newVersion: NewVersionOptions

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let (registry, progress) = try options.openWithProgress()
        var request = AddRequest(model: model, weights: options.url(weights))
        request.metrics = metrics.map(options.url)
        request.hyperparameters = hyperparameters.map(options.url)
        request.task = task
        request.version = newVersion.version
        request.force = newVersion.force
        request.commandLine = ["mv"] + Array(CommandLine.arguments.dropFirst())
        request.serveCommand = try serveCommand.map(ShellWords.split)
        request.serveFiles = serveFiles.map(options.url)
        request.reference = reference.map(options.url)
        let result = try registry.add(request)
        progress.finish()
        try options.output.emit(LandedVersion(result: result, weights: weights))
    }
}
