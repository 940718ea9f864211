import ArgumentParser
import Learning

struct Algorithms: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "algorithms",
        abstract: "List the built-in algorithms and their hyperparameters with defaults.")

    func run() throws {
        print(Self.listing, terminator: "")
    }

    /// Every trainer and its hyperparameters with their defaults.
    static var listing: String {
        Trainers.all.map { trainer in
            "\(trainer.algorithm): \(trainer.summary)\n"
                + trainer.hyperparameters.map {
                    "  --param \($0.name)=\($0.defaultValue)".padding(toLength: 36, withPad: " ", startingAt: 0) + $0.summary
                }
                .joined(separator: "\n") + "\n"
        }.joined()
    }
}
