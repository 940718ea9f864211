import ArgumentParser
import Foundation
import Learning
import Registry

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model version, commit it and tag it.",
        discussion: """
            Built-in:  mv train churn --data train.csv --target y [--algorithm linear-regression]
            Your own:  mv train churn [--data train.csv] -- python train.py --epochs 3
            Your command gets MV_OUTPUT_DIR, MV_MODEL, MV_VERSION, MV_SEED, MV_DATA and MV_REPO in its
            environment and writes params/*.npy or a .safetensors file, plus optional metrics.yaml and
            hyperparameters.yaml, into MV_OUTPUT_DIR (see docs/FORMAT.md).
            """)

    @Argument(help: "Model name: letters, digits, '-' and '_'.")
    var model: String

    @Option(help: "Training data (CSV with a header row).")
    var data: String?

    @Option(help: "The column to predict.")
    var target: String?

    @Option(help: "Built-in algorithm ('mv algorithms' or --algorithm help lists them).")
    var algorithm: String = "linear-regression"

    @Option(help: "Optimizer of iterative fitting (other settings: --param learning_rate=…, batch_size, max_iter, tol, l2, seed).")
    var optimizer: Optimizer?

    @Option(help: "Fill missing values (default: refuse them).")
    var impute: ImputeStrategy?

    @Flag(help: "Standardize numeric features (the means and deviations are stored with the version).")
    var standardize = false

    @Option(name: .customLong("test-size"), help: "Fraction of rows held out for evaluation.")
    var testSize: Double = 0.2

    @Option(help: "Seed for the train/test split (and for your command, as MV_SEED).")
    var seed: UInt64 = 42

    @Option(name: .customLong("param"), parsing: .singleValue, help: "A hyperparameter, key=value (repeatable).")
    var params: [String] = []

    @Option(help: "Task of a custom command's model (default: from its metrics).")
    var task: Task?

    @Option(
        help: "With your own command: a CSV whose column distributions 'mv monitor' compares with (built-ins record theirs)."
    )
    var reference: String?

    @OptionGroup var newVersion: NewVersionOptions

    @OptionGroup var options: RepositoryOptions

    @Argument(parsing: .postTerminator, help: "Your own training command, after '--'.")
    var command: [String] = []

    func validate() throws {
        if algorithm == "help" { return }
        if command.isEmpty {
            if reference != nil {
                throw ValidationError("--reference is for your own training command; a built-in algorithm records its training rows itself")
            }
            guard data != nil else {
                throw ValidationError("missing --data: the CSV file to train on (or give your own command after '--')")
            }
            guard target != nil else { throw ValidationError("missing --target: the column to predict") }
        }
        guard testSize >= 0, testSize < 1 else { throw ValidationError("--test-size must be at least 0 and below 1, e.g. 0.2") }
        for param in params where !param.contains("=") || param.hasPrefix("=") {
            throw ValidationError("--param '\(param)' must look like key=value")
        }
    }

    func run() throws {
        if algorithm == "help" {
            print(Algorithms.listing, terminator: "")
            return
        }
        let registry = try options.open()
        let dataURL = data.map(options.url)
        let arguments = ["mv"] + Array(CommandLine.arguments.dropFirst())
        let result: TrainResult
        if command.isEmpty, let dataURL, let target {
            var request = TrainRequest(model: model, data: dataURL, target: target)
            request.algorithm = algorithm
            request.testSize = testSize
            request.seed = seed
            request.hyperparameters = Dictionary(
                params.map { param in
                    let parts = param.split(separator: "=", maxSplits: 1).map(String.init)
                    return (parts[0], parts.count > 1 ? parts[1] : "")
                }, uniquingKeysWith: { $1 })
            if let optimizer { request.hyperparameters["solver"] = optimizer.rawValue }
            request.impute = impute
            request.standardize = standardize
            request.version = newVersion.version
            request.force = newVersion.force
            request.commandLine = arguments
            result = try registry.train(request)
        } else {
            var request = CommandTrainRequest(model: model, command: command)
            request.data = dataURL.map { [$0] } ?? []
            request.reference = reference.map(options.url)
            request.task = task
            request.seed = seed
            request.version = newVersion.version
            request.force = newVersion.force
            request.commandLine = arguments
            result = try registry.trainWithCommand(request)
        }
        try options.output.emit(LandedVersion(result: result))
    }
}
