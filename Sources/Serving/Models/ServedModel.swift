import Foundation
import Learning
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
        guard !model.isEmpty, model.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
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

/// One version loaded and ready to answer: the predictor and what the responses report.
public struct LoadedModel: Sendable {
    public let predictor: Predictor
    /// `3.0.0`, or the short commit for an untagged revision.
    public let version: String
    public let commit: String
    public let loadedAt: Date

    init(predictor: Predictor) {
        self.predictor = predictor
        version = predictor.resolved.version.map { String($0.description.drop { $0 == "v" }) } ?? predictor.resolved.commit.short
        commit = predictor.resolved.commit.description
        loadedAt = Date()
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
