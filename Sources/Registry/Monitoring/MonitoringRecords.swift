import Foundation
import Git
import ModelFormat

/// One `mv monitor` run that was committed, read from its monitoring tag.
public struct MonitoringRecord: Sendable {
    public let model: String
    public let version: SemanticVersion
    public let number: Int
    public let tag: String
    public let name: String
    public let commit: String
    public let date: Date?
    public let author: String?
    public let reportPath: String?
    /// The tag's trailers: Drift-Share, Drifted-Features, Verdict, …
    public let fields: [String: String]
}

/// A monitoring report to commit.
public struct MonitoringCommit: Sendable {
    public var model: String
    public var version: String
    public var name: String
    public var yaml: String
    /// First line of the commit and tag messages.
    public var summary: String
    public var body: String
    public var trailers: [(String, String)]
    public var force = false

    public init(model: String, version: String, name: String, yaml: String, summary: String, body: String, trailers: [(String, String)]) {
        self.model = model
        self.version = version
        self.name = name
        self.yaml = yaml
        self.summary = summary
        self.body = body
        self.trailers = trailers
    }
}

extension Registry {
    /// The path a monitoring report of `model` named `name` is committed at.
    public func monitoringPath(_ model: ModelName, name: String) -> String { "\(folder(of: model))/monitoring/\(name).yaml" }

    /// Commits `models/<m>/monitoring/<name>.yaml` with a tag `monitor/<m>/<version>/<N>`.
    /// A report of the same name is replaced (its history stays in Git); uncommitted edits
    /// to it are refused unless forced.
    public func recordMonitoring(_ request: MonitoringCommit) throws -> (commit: String, tag: String, path: String) {
        let model = try ModelName(request.model)
        guard let version = SemanticVersion(tag: request.version) else {
            throw MVError("'\(request.version)' is not a version of '\(model)'")
        }
        guard (try? ModelName(request.name)) != nil else {
            throw MVError("invalid monitoring report name '\(request.name)': use \(ModelName.rule)", hint: "choose one with --name")
        }
        let path = monitoringPath(model, name: request.name)
        let staging = try makeStagingFolder()
        defer { try? FileManager.default.removeItem(at: staging) }
        let source = staging.appendingPathComponent("monitoring.yaml")
        try Data(request.yaml.utf8).writeUnsynced(to: source)
        let file = StagedFile(path: path, blob: try repository.objects.writeBlob(fileAt: source), source: source)
        var trailers = Trailers()
        trailers.append("Model", model.value)
        trailers.append("Model-Version", version.description)
        trailers.append("Monitoring", request.name)
        for (key, value) in request.trailers { trailers.append(key, value) }
        let signature = try repository.defaultSignature()
        let lock = try lockForWriting()
        defer { withExtendedLifetime(lock) {} }
        if !request.force, !(try changes(under: path)).isEmpty {
            throw MVError(
                "'\(path)' has uncommitted changes; a new report would overwrite them", hint: "commit or stash them, or pass --force")
        }
        let published = try writer.publish(signature: signature, reflogPrefix: "mv monitor") { _ in
            let taken = try self.repository.referenceNames(matching: TagNames.monitoringGlob(model, version))
                .compactMap { TagNames.parseMonitoring(ref: $0)?.number }
            let tagName = TagNames.monitoring(model, version, (taken.max() ?? 0) + 1)
            let time = try self.freshSecond(after: self.state(of: model))
            var tagTrailers = Trailers()
            tagTrailers.append("Report", path)
            tagTrailers.append(trailers)
            return Proposal(
                files: [file], replacedFolders: [],
                message: "\(request.summary)\n\n\(request.body)\n\n\(trailers.text)",
                tag: (tagName, "\(request.summary)\n\n\(tagTrailers.text)"), tagTime: time)
        }
        warnIfDetached(published)
        try workTree.sync(published.proposal)
        return (published.commit.description, published.tagName ?? "", path)
    }

    /// Committed monitoring runs of `model` (of one version, or all), oldest first.
    public func monitoringRecords(of model: ModelName, version: SemanticVersion? = nil) throws -> [MonitoringRecord] {
        try tagRefs(matching: TagNames.monitoringGlob(model, version)).compactMap { ref, target -> MonitoringRecord? in
            guard let parsed = TagNames.parseMonitoring(ref: ref), parsed.model == model, let tag = try repository.annotatedTag(target)
            else { return nil }
            let fields = Trailers.parse(tag.message)
            return MonitoringRecord(
                model: model.value, version: parsed.version, number: parsed.number, tag: tag.name,
                name: fields["Monitoring"] ?? "?", commit: tag.targetID.description, date: tag.tagger?.time,
                author: tag.tagger.map { "\($0.name) <\($0.email)>" }, reportPath: fields["Report"],
                fields: Dictionary(fields.fields.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 }))
        }.sorted { ($0.date ?? .distantPast, $0.number) < ($1.date ?? .distantPast, $1.number) }
    }

    /// The report a monitoring run committed, as a YAML tree (its layout is Monitoring's,
    /// documented in docs/FORMAT.md); nil when the commit has no such file.
    public func monitoringReport(of record: MonitoringRecord) throws -> YAMLValue? {
        guard let path = record.reportPath, let commit = ObjectID(hex: record.commit), let text = try text(at: path, in: commit) else {
            return nil
        }
        do {
            return try YAMLValue.parse(text, source: "\(record.tag):\(path)")
        } catch {
            throw MVError("\(error)")
        }
    }
}
