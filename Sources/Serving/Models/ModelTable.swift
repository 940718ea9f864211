import Synchronization

/// The served models at this moment. A request takes one snapshot when it starts and
/// predicts with the versions in it, so a swap never changes a request's version midway;
/// the stage follower replaces the whole list at once.
public final class ModelTable: Sendable {
    private let models: Mutex<[ServedModel]>

    public init(_ models: [ServedModel] = []) {
        self.models = Mutex(models)
    }

    public func snapshot() -> [ServedModel] {
        models.withLock { $0 }
    }

    func replace(with next: [ServedModel]) {
        models.withLock { $0 = next }
    }
}

extension [ServedModel] {
    /// The slot a request names: the first one serving `model` (the order the user listed
    /// them), or the one following `stage` / holding `version` when the route says which.
    func slot(_ model: String, stage: String? = nil, version: String? = nil) throws(ServeError) -> (ServedModel, LoadedModel) {
        let named = filter { $0.name == model }
        guard !named.isEmpty else {
            let known = map(\.name)
            throw .notFound(
                "model '\(model)' is not served here" + (known.isEmpty ? "" : " (served: \(known.joined(separator: ", ")))"))
        }
        var candidates = named
        if let stage {
            candidates = named.filter { $0.spec.stage == stage }
            guard !candidates.isEmpty else { throw .notFound("model '\(model)' is not served at stage '\(stage)'") }
        }
        if let version {
            candidates = candidates.filter { $0.loaded?.matches(version: version) == true }
            guard !candidates.isEmpty else {
                let serving = named.compactMap(\.loaded?.version)
                throw .notFound(
                    "version \(version) of '\(model)' is not served here"
                        + (serving.isEmpty ? "" : " (serving \(serving.joined(separator: ", ")))"))
            }
        }
        let first = candidates[0]
        guard let loaded = first.loaded else {
            throw .unavailable(first.unavailable ?? "model '\(model)' is not loaded yet")
        }
        return (first, loaded)
    }
}
