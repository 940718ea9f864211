import ArgumentParser
import Foundation
import Learning

struct ExampleDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example-data",
        abstract: "Write built-in example data: y = 3x + 2 + noise, as CSV.")

    @Option(help: "Number of rows.")
    var rows = 200

    @Option(help: "Random seed: the same seed gives the same file.")
    var seed: UInt64 = 1

    @Option(help: "Standard deviation of the noise.")
    var noise = 0.5

    @Option(help: "Number of feature columns (x, or x1…xN).")
    var features = 1

    @Option(name: .shortAndLong, help: "Output file (default: standard output).")
    var output: String?

    func validate() throws {
        guard rows > 0 else { throw ValidationError("--rows must be at least 1") }
        guard features > 0, features <= 1000 else { throw ValidationError("--features must be between 1 and 1000") }
        guard noise >= 0, noise.isFinite else { throw ValidationError("--noise must be a finite number ≥ 0") }
    }

    func run() throws {
        let text = ExampleData.linear(rows: rows, seed: seed, noise: noise, features: features)
        guard let output else {
            print(text, terminator: "")
            return
        }
        let url = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url, options: .atomic)
        FileHandle.standardError.write(Data("wrote \(rows) rows to \(output)\n".utf8))
    }
}
