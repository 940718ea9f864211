import Foundation
import Learning
import ModelFormat
import Registry

/// What the user asked to serve: `churn@v3` (a pinned version), `churn#staging` (whatever
/// holds a stage, followed as it moves) or `churn` (the `--stage` holder).
public struct ServedSpec: Sendable, Equatable, CustomStringConvertible {
    public enum Selector: Sendable, Equatable {
        case version(String)
        case stage(String)
    }

    public let model: String
    public let selector: Selector

    public init(model: String, selector: Selector) {
        self.model = model
        self.selector = selector
    }

    /// Parses `model`, `model@vX` or `model#stage`; a bare name follows `defaultStage`.
    public init(parsing text: String, defaultStage: String) throws(ServeError) {
        if let at = text.firstIndex(of: "@") {
            model = String(text[..<at])
            selector = .version(String(text[text.index(after: at)...]))
        } else if let hash = text.firstIndex(of: "#") {
            model = String(text[..<hash])
            selector = .stage(String(text[text.index(after: hash)...]))
        } else {
            model = text
            selector = .stage(defaultStage)
        }
        guard (try? ModelName(model)) != nil else {
            throw ServeError.badRequest("'\(text)' is not a model to serve: use name, name@vN or name#stage")
        }
        if case .stage(let stage) = selector, stage.isEmpty {
            throw ServeError.badRequest("'\(text)' names no stage: use name#stage")
        }
    }

    /// The reference Registry resolves.
    var reference: String {
        switch selector {
        case .version(let version): "\(model)@\(version)"
        case .stage(let stage): "\(model)#\(stage)"
        }
    }

    /// The stage this spec follows, if any.
    public var stage: String? {
        if case .stage(let stage) = selector { return stage }
        return nil
    }

    public var description: String { reference }
}

/// One version loaded and ready to answer: mv's own predictor, or a pool of the version's
/// predictor processes; and what the responses report.
public struct LoadedModel: Sendable {
    enum Engine: Sendable {
        case builtIn(Predictor)
        case command(WorkerPool)
    }

    let engine: Engine
    public let resolved: ResolvedVersion
    public let manifest: Manifest
    /// `3.0.0`, or the short commit for an untagged revision.
    public let version: String
    public let commit: String
    public let loadedAt: Date

    init(predictor: Predictor) {
        self.init(engine: .builtIn(predictor), resolved: predictor.resolved, manifest: predictor.manifest)
    }

    init(pool: WorkerPool) {
        self.init(engine: .command(pool), resolved: pool.command.resolved, manifest: pool.command.manifest)
    }

    private init(engine: Engine, resolved: ResolvedVersion, manifest: Manifest) {
        self.engine = engine
        self.resolved = resolved
        self.manifest = manifest
        version = resolved.version.map { String($0.description.drop { $0 == "v" }) } ?? resolved.commit.short
        commit = resolved.commit.description
        loadedAt = Date()
    }

    /// The input columns in order, and whether each is numeric; a predictor command's come
    /// from the manifest's `features` (possibly none: then rows are positional).
    var columns: [(name: String, numeric: Bool)] {
        switch engine {
        case .builtIn(let predictor): predictor.features.columns.map { ($0.name, $0.kind == .numeric) }
        case .command: manifest.features.map { ($0.name, !["string", "category", "categorical", "text"].contains($0.type)) }
        }
    }

    var featureNames: [String] { columns.map(\.name) }

    var isClassifier: Bool {
        switch engine {
        case .builtIn(let predictor): predictor.target.task == .classification
        case .command: manifest.task == "classification"
        }
    }

    var classes: [String] {
        if case .builtIn(let predictor) = engine { return predictor.target.classes }
        return []
    }

    var hasProbabilities: Bool {
        if case .builtIn(let predictor) = engine { return predictor.hasProbabilities }
        return false
    }

    /// Predicts through the same path `mv predict` takes, or through a predictor process.
    func predict(_ table: CSVTable, probabilities: Bool) async throws(ServeError) -> Predictions {
        switch engine {
        case .builtIn(let predictor):
            do {
                return try predictor.predict(table, source: "the request", probabilities: probabilities)
            } catch {
                throw .badRequest(MLflowProtocol.describe(error))
            }
        case .command(let pool):
            return try await pool.predict(table)
        }
    }

    /// The first number of the version, TF Serving's integer version.
    var major: String { String(version.prefix { $0 != "." }) }

    /// Whether `text` (TF Serving's `3`, or `3.0.0`, or `v3`) names this version.
    func matches(version text: String) -> Bool {
        let bare = text.hasPrefix("v") ? String(text.dropFirst()) : text
        return bare == version || bare == major
    }
}

/// A served slot: its spec and, at this moment, the loaded version or why there is none.
public struct ServedModel: Sendable {
    public let spec: ServedSpec
    public var loaded: LoadedModel?
    /// Why nothing is loaded (no holder of the stage, or the first load failed).
    public var unavailable: String?

    public var name: String { spec.model }
}
