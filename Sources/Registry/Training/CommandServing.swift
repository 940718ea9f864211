import Foundation
import Git
import ModelFormat

/// A version served by its own predictor command (`serve: {command: …}` in its manifest):
/// the command, and the version's folder exported once for it to read.
public struct PredictorCommand: Sendable {
    public let resolved: ResolvedVersion
    public let manifest: Manifest
    public let command: [String]
    /// The exported model folder: model.yaml, params/*.npy, eval/, serve/.
    public let folder: URL
}

/// How `mv serve` runs a version: mv's own predictor, or the version's command.
public enum Servable: Sendable {
    case builtIn(Predictor)
    case command(PredictorCommand)
}

extension Registry {
    /// What serving `resolved` takes: a built-in model is rebuilt from its tensors; a
    /// version with a predictor command has its folder exported under
    /// `<git dir>/mv/serve-cache/<model>-<commit>` (once; later servers reuse it).
    public func servable(_ resolved: ResolvedVersion) throws -> Servable {
        let content = try content(of: resolved)
        guard let command = content.manifest.serveCommand else {
            if ["custom", "imported"].contains(content.manifest.algorithm) {
                throw MVError(
                    "\(resolved.label) has no predictor mv can run (its weights came from \(content.manifest.algorithm == "custom" ? "your own training command" : "mv add"))",
                    hint:
                        "register one with the version: mv add … --serve-command 'python3 predict.py' --serve-file predict.py (docs/SERVING.md)"
                )
            }
            return .builtIn(try predictor(resolved))
        }
        let cache = repository.commonDirectory.appendingPathComponent("mv/serve-cache")
        let folder = cache.appendingPathComponent("\(resolved.model)-\(resolved.commit)")
        let complete = folder.appendingPathComponent(".mv-complete")
        let fileManager = FileManager.default
        if !fileManager.fileExists(atPath: complete.path) {
            try fileManager.createDirectory(at: cache, withIntermediateDirectories: true)
            let temporary = cache.appendingPathComponent(".tmp-\(getpid())-\(UUID().uuidString)")
            defer { try? fileManager.removeItem(at: temporary) }
            _ = try checkout(resolved.commit.description, model: resolved.model.value, to: temporary, force: false)
            try fileManager.createDirectory(at: temporary.appendingPathComponent("serve"), withIntermediateDirectories: true)
            try Data().write(to: temporary.appendingPathComponent(".mv-complete"))
            try? fileManager.removeItem(at: folder)
            do {
                try fileManager.moveItem(at: temporary, to: folder)
            } catch  where fileManager.fileExists(atPath: complete.path) {
                // Another server exported the same version first.
            }
        }
        return .command(PredictorCommand(resolved: resolved, manifest: content.manifest, command: command, folder: folder))
    }
}
