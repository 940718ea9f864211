import ArgumentParser
import Learning
import Registry

// Values the command line takes from a fixed set: argument-parser checks them and lists the
// choices in --help and in its error.

extension ExportFormat: ExpressibleByArgument {}
extension ImputeStrategy: ExpressibleByArgument {}
extension GitHook: ExpressibleByArgument {}

extension Task: ExpressibleByArgument {}

/// Optimizers of iterative fitting (the trainers' `solver` hyperparameter).
enum Optimizer: String, ExpressibleByArgument, CaseIterable {
    case gd, sgd, adam
}
