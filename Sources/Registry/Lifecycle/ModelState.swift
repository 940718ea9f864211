import Foundation
import Git

/// One registry event as GTO's tag grammar spells it (see docs/TAGS.md):
/// `m@v1.2.3` register, `m@v1.2.3!` deregister (mv: deprecate a version),
/// `m#stage#N` assign, `m#stage!#N` unassign, `m@deprecated` deprecate the model;
/// any of them may end in `#N`, a per-model counter.
public struct RegistryEvent: Sendable {
    public enum Kind: String, Sendable {
        case registration, deregistration, assignment, unassignment, deprecation
    }

    public let model: ModelName
    public let kind: Kind
    public let version: SemanticVersion?
    public let stage: String?
    public let counter: Int?
    public let tag: String
    /// The commit the tag points at.
    public let commit: ObjectID
    public let time: Date
    public let tagger: String?
    public let message: String
}

/// The registry state of one model derived from its tags, the way GTO derives it, so
/// `mv` and `gto show` name the same stage holders.
public struct ModelState: Sendable {
    public let model: ModelName
    /// Annotated events, in resolution order (oldest first).
    public let events: [RegistryEvent]
    /// Highest counter on any of the model's tags, annotated or not (GTO counts both).
    public let maxCounter: Int
    /// Registered versions that are not deregistered.
    public let activeVersions: [SemanticVersion]
    /// Every version ever registered, active or not.
    public let allVersions: [SemanticVersion]
    public let versionCommits: [SemanticVersion: ObjectID]
    /// Current holder of each stage that has one.
    public let holders: [String: StageHolder]
    public let deprecated: Bool

    public func isActive(_ version: SemanticVersion) -> Bool { activeVersions.contains(version) }

    public var latest: SemanticVersion? { activeVersions.max() }
}

/// Who holds a stage: a version (or, for a stage tag on an unregistered commit, that commit).
public struct StageHolder: Sendable, Equatable {
    public let version: SemanticVersion?
    public let commit: ObjectID
    /// The assignment that put it there.
    public let tag: String
    public let time: Date

    public var label: String { version?.description ?? commit.description }
}

extension Registry {
    /// Reads every tag of `model` and resolves versions and stage holders.
    ///
    /// Order of events: when all of the model's stage events carry a `#N` counter, by
    /// counter (ties: tagger time, then name); otherwise by tagger time (ties: counter,
    /// then name), as GTO does. A stage's holder is the active version whose newest
    /// assignment is latest among versions still assigned; an unassignment or a
    /// deregistration hands the stage back to the previous holder.
    public func state(of model: ModelName) throws -> ModelState {
        let refs = try TagNames.eventGlobs(model).flatMap { try tagRefs(matching: $0) }
        return try state(of: model, tagRefs: refs)
    }

    /// The same from tag refs already listed (`mv list` lists every tag once for all models).
    func state(of model: ModelName, tagRefs refs: [(name: String, target: ObjectID)]) throws -> ModelState {
        var events: [RegistryEvent] = []
        var maxCounter = 0
        for (ref, target) in refs {
            let name = String(ref.dropFirst("refs/tags/".count))
            guard let parsed = TagNames.parseEvent(name), parsed.model == model else { continue }
            maxCounter = max(maxCounter, parsed.counter ?? 0)
            guard let tag = try repository.annotatedTag(target) else { continue }
            // A tag of a tag is not an event on a commit; GTO reads it as a strange version.
            guard (try? repository.commit(tag.targetID)) != nil else { continue }
            events.append(
                RegistryEvent(
                    model: model, kind: parsed.kind, version: parsed.version, stage: parsed.stage, counter: parsed.counter,
                    tag: name, commit: tag.targetID, time: tag.tagger?.time ?? .distantPast,
                    tagger: tag.tagger.map { "\($0.name) <\($0.email)>" }, message: tag.message))
        }
        return Self.resolveState(model: model, events: events, maxCounter: maxCounter)
    }

    static func resolveState(model: ModelName, events unordered: [RegistryEvent], maxCounter: Int) -> ModelState {
        func second(_ event: RegistryEvent) -> Double { event.time.timeIntervalSince1970.rounded(.down) }
        func byTime(_ a: RegistryEvent, _ b: RegistryEvent) -> Bool {
            if second(a) != second(b) { return second(a) < second(b) }
            if (a.counter ?? -1) != (b.counter ?? -1) { return (a.counter ?? -1) < (b.counter ?? -1) }
            if a.kind != b.kind { return a.kind.priority < b.kind.priority }
            return a.tag < b.tag
        }
        let events = unordered.sorted(by: byTime)
        // Stage events are ordered apart so the comparison stays a strict order.
        let stageEvents = events.filter { $0.stage != nil }
        let byCounter = stageEvents.allSatisfy { $0.counter != nil }
        let orderedStageEvents =
            !byCounter
            ? stageEvents
            : stageEvents.sorted { a, b in
                if let x = a.counter, let y = b.counter, x != y { return x < y }
                return byTime(a, b)
            }

        // Versions: the newest of a version's (de)registrations on its commit decides.
        var versionCommits: [SemanticVersion: ObjectID] = [:]
        var active: [SemanticVersion: Bool] = [:]
        for event in events where event.kind == .registration {
            if let version = event.version, versionCommits[version] == nil { versionCommits[version] = event.commit }
        }
        for event in events {
            guard let version = event.version, versionCommits[version] == event.commit else { continue }
            if event.kind == .registration { active[version] = true }
            if event.kind == .deregistration { active[version] = false }
        }
        var versionAtCommit: [ObjectID: SemanticVersion] = [:]
        for (version, commit) in versionCommits where versionAtCommit[commit].map({ version > $0 }) ?? true {
            versionAtCommit[commit] = version
        }

        // Stages: replay assignments; keep, per (holder, stage), whether it is assigned and when.
        struct Key: Hashable {
            let commit: ObjectID
            let stage: String
        }
        var assigned: [Key: (order: Int, event: RegistryEvent)] = [:]
        for (order, event) in orderedStageEvents.enumerated() {
            guard let stage = event.stage else { continue }
            let key = Key(commit: event.commit, stage: stage)
            if event.kind == .assignment { assigned[key] = (order, event) } else { assigned[key] = nil }
        }
        var holders: [String: StageHolder] = [:]
        var best: [String: Int] = [:]
        for (key, value) in assigned {
            let version = versionAtCommit[key.commit]
            if let version, active[version] != true { continue }
            if let current = best[key.stage], current > value.order { continue }
            best[key.stage] = value.order
            holders[key.stage] = StageHolder(version: version, commit: key.commit, tag: value.event.tag, time: value.event.time)
        }
        let lastDeprecation = events.lastIndex { $0.kind == .deprecation }
        let deprecated = lastDeprecation.map { $0 == events.count - 1 } ?? false
        return ModelState(
            model: model, events: events, maxCounter: maxCounter,
            activeVersions: active.filter(\.value).map(\.key).sorted(),
            allVersions: versionCommits.keys.sorted(), versionCommits: versionCommits,
            holders: holders, deprecated: deprecated)
    }

    /// The version currently holding `stage`.
    func stageHolder(model: ModelName, stage: String) throws -> SemanticVersion? {
        let state = try state(of: model)
        guard let holder = state.holders[stage] else { return nil }
        guard let version = holder.version else {
            throw MVError(
                "stage '\(stage)' of '\(model)' is held by commit \(holder.commit.short), which has no version tag",
                hint: "register it, or promote a version")
        }
        return version
    }
}

extension RegistryEvent.Kind {
    /// GTO's priorities, used only to order events of the same second.
    var priority: Int {
        switch self {
        case .deprecation: 2
        case .registration: 3
        case .deregistration: 4
        case .assignment: 5
        case .unassignment: 6
        }
    }
}
