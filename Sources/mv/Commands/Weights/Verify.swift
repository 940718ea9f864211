import ArgumentParser
import Foundation
import Registry

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-hash a version's tensors from Git objects and compare with the manifest.",
        discussion: "Exits 1 and names every tensor whose bytes do not match its recorded sha256.")

    @OptionGroup var version: OptionalVersionArguments

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let registry = try options.open()
        let reference = try version.reference ?? registry.defaultReference(model: version.model)
        let (resolved, results) = try registry.verify(reference, model: version.model)
        let verification = Verification(resolved: resolved, results: results)
        try options.output.emit(verification)
        let bad = verification.mismatches
        guard bad.isEmpty else {
            throw MVError(
                "\(resolved.label): \(bad.count) of \(results.count) tensors do not match their sha256: "
                    + bad.map { "'\($0.tensor)' (\($0.file))" }.joined(separator: ", "),
                hint: "the stored objects were altered; restore them from another clone or a backup")
        }
    }
}
