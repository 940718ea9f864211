import ArgumentParser
import Foundation
import Learning
import Registry

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict with any version, stage or revision (parameters read from Git).",
        discussion: "Writes CSV: a 'prediction' column (the value, or the class label), and with --proba one p_<class> column per class.")

    @OptionGroup var version: VersionArguments

    @Option(help: "Input CSV with the model's feature columns.")
    var data: String

    @Option(name: .shortAndLong, help: "Output CSV (default: standard output).")
    var output: String?

    @Flag(help: "Add class probabilities.")
    var proba = false

    @Flag(
        name: .customLong("ignore-unknown-categories"), help: "Encode categories unseen in training as all zeros instead of refusing them.")
    var ignoreUnknownCategories = false

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let result = try options.open().predict(
            version.reference, model: version.model, data: options.url(data), probabilities: proba,
            ignoreUnknownCategories: ignoreUnknownCategories)
        let text = CSVField.document(header: result.header, rows: result.rows)
        if let output {
            try Data(text.utf8).write(to: options.url(output), options: .atomic)
            FileHandle.standardError.write(Data("wrote \(result.rows.count) predictions of \(result.resolved.label) to \(output)\n".utf8))
        } else {
            print(text, terminator: "")
        }
    }
}
