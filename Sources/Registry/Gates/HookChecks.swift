import Foundation
import Git
import ModelFormat
import TensorStore

/// The git hooks mv provides (see Hooks/ and `mv hooks install`).
public enum GitHook: String, CaseIterable, Sendable {
    case preCommit = "pre-commit"
    case prePush = "pre-push"
    case referenceTransaction = "reference-transaction"
    case preReceive = "pre-receive"
    case postCheckout = "post-checkout"
    case postMerge = "post-merge"

    public static let client: [GitHook] = [.preCommit, .prePush, .referenceTransaction, .postCheckout, .postMerge]
    public static let server: [GitHook] = [.preReceive]

    /// What the hook checks, for messages and the installed script's header.
    public var purpose: String {
        switch self {
        case .preCommit:
            "refuse a commit whose model folder has an invalid manifest, a tensor that does not match its sha256, or fails the 'commit' gate"
        case .prePush: "refuse pushing a stage tag whose version fails that stage's gate"
        case .referenceTransaction: "refuse creating a stage tag (git tag, mv) whose version fails that stage's gate"
        case .preReceive: "refuse receiving a stage tag whose version fails that stage's gate (server side)"
        case .postCheckout, .postMerge: "rebuild the .npy files of tensors stored in chunks after git changed the work tree"
        }
    }
}

/// A ref a hook is asked about: `ref` moving to `new` (all zeros: deletion).
public struct RefUpdate: Sendable {
    public let ref: String
    public let new: String

    public init(ref: String, new: String) {
        self.ref = ref
        self.new = new
    }
}

extension Registry {
    /// Opens the repository a hook runs in, as git describes it in the environment.
    public static func openForHook(at path: String) throws -> Registry {
        let repository: Repository
        do {
            repository = try Repository.openFromEnvironment(path: path)
        } catch {
            throw MVError("mv hook: not inside a git repository ('\(path)')")
        }
        return Registry(repository: repository, config: try readConfig(repository))
    }

    /// The registry a pre-receive hook checks a push against. A server that has no branch
    /// yet (its first push) has no policy of its own: the pushed default branch's
    /// `.mv.yaml` applies, so a first push cannot slip a failing stage tag past the gates.
    public static func openForReceive(at path: String, updates: [RefUpdate]) throws -> Registry {
        let registry = try openForHook(at: path)
        let hasBranch =
            try registry.repository.head().target != nil || !(try registry.repository.references(matching: "refs/heads/*")).isEmpty
        guard !hasBranch else { return registry }
        let branches = updates.filter { $0.ref.hasPrefix("refs/heads/") && $0.new != zero }
        guard
            let pushed = branches.first(where: { $0.ref == "refs/heads/main" }) ?? branches.first(where: { $0.ref == "refs/heads/master" })
                ?? branches.first,
            let commit = ObjectID(hex: pushed.new)
        else { return registry }
        return Registry(repository: registry.repository, config: try readConfig(registry.repository, at: commit))
    }

    /// pre-commit: every model folder the index changes must have a valid manifest,
    /// tensors matching their recorded sha256 (and no unlisted tensor files), and pass the
    /// repository's `commit` gates. Returns the folders checked; throws listing every problem.
    public func checkStagedModels() throws -> [String] {
        let index = try repository.index()
        let staged = try index.writeTree()
        let head = try repository.head().target
        let headTree = try head.map { try repository.tree(repository.commit($0).treeID) }
        let stagedTree = try repository.tree(staged)
        guard let root = try stagedTree.entry(atPath: config.modelsRoot), root.isTree else { return [] }
        var checked: [String] = []
        var problems: [String] = []
        var reports: [GateReport] = []
        for entry in try repository.tree(root.id).entries where entry.isTree {
            let path = "\(config.modelsRoot)/\(entry.name)"
            if try headTree?.entry(atPath: path)?.id == entry.id { continue }
            guard let model = try? ModelName(entry.name) else {
                problems.append("'\(path)': '\(entry.name)' is not a valid model name (\(ModelName.rule))")
                continue
            }
            checked.append(path)
            let resolved = ResolvedVersion(model: model, version: nil, commit: head ?? staged, spelled: "the staged \(path)")
            let content: VersionContent
            do {
                content = try self.content(of: resolved, rootTree: staged)
            } catch let error as MVError {
                problems.append(error.message)
                continue
            }
            if content.manifest.name != model.value {
                problems.append("'\(path)/\(Manifest.fileName)' names model '\(content.manifest.name)', not '\(model)'")
            }
            let stored = content.manifest.params.compactMap { record in content.tensorBlobs[record.name].map { (record, $0) } }
            for ((record, _), digest) in zip(stored, try tensors.reader().digests(stored.map { $0.1 })) {
                if digest != record.sha256 {
                    problems.append(
                        "'\(path)/\(record.file)' does not match its sha256 in \(Manifest.fileName) (tensor '\(record.name)'); restore it with 'mv checkout \(model)@\(content.manifest.version) --force' or register the change with mv"
                    )
                }
            }
            let listed = Set(content.manifest.params.map { $0.chunkBytes == nil ? $0.file : $0.chunkFolder })
            for (file, _) in try folderFiles(content.folderTree)
            where file.hasPrefix("params/") && file.hasSuffix(".npy") && !listed.contains(file) {
                problems.append("'\(path)/\(file)' is not listed in \(Manifest.fileName); tensors are added with mv, not by hand")
            }
            let report = try gate(resolved, stage: GateBlock.commitStage, holderState: nil, skipRelative: true, rootTree: staged)
            if !report.passed {
                reports.append(report)
                problems.append("'\(path)' fails the commit gate: \(report.failureSummary)")
            }
        }
        guard problems.isEmpty else {
            throw MVError(
                problems.count == 1
                    ? problems[0] : "\(problems.count) problems in staged model folders: " + problems.joined(separator: "; "),
                hint: "mv's pre-commit hook refused the commit; 'git commit --no-verify' skips hooks",
                gateReports: reports)
        }
        return checked
    }

    /// reference-transaction, pre-push, pre-receive: every stage assignment among
    /// `updates` must point at a version of its model and pass its stage's gate, unless its
    /// tag records an override that the gate allows. `pending` are refs the repository does
    /// not show yet (a push).
    public func checkStageAssignments(_ updates: [RefUpdate], pending: [RefUpdate] = []) throws -> [GateReport] {
        pendingTags = pending.compactMap { update in
            ObjectID(hex: update.new).flatMap { $0.description == Self.zero ? nil : (update.ref, $0) }
        }
        var reports: [GateReport] = []
        var failures: [(GateReport, String)] = []
        for update in updates {
            guard update.ref.hasPrefix("refs/tags/"), let target = ObjectID(hex: update.new), update.new != Self.zero,
                let parsed = TagNames.parseEvent(String(update.ref.dropFirst("refs/tags/".count))),
                parsed.kind == .assignment, let stage = parsed.stage
            else { continue }
            let model = parsed.model
            let gated = config.gates.contains(where: { $0.applies(to: model, stage: stage) })
            guard let tag = try repository.annotatedTag(target) else {
                // GTO ignores lightweight tags; only a gate needs the annotation's trailers.
                if gated {
                    failures.append(
                        (
                            GateReport(model: model.value, version: "?", stage: stage, checks: []),
                            "'\(update.ref)' is a lightweight tag; stage tags must be annotated"
                        ))
                }
                continue
            }
            // The holder to compare with: the stage as it stands without this assignment.
            let others = try TagNames.eventGlobs(model).flatMap { try tagRefs(matching: $0) }
            let before = try state(of: model, tagRefs: others.filter { $0.name != update.ref })
            let version = before.versionCommits.filter { $0.value == tag.targetID }.map(\.key).max()
            guard let version else {
                failures.append(
                    (
                        GateReport(model: model.value, version: tag.targetID.short, stage: stage, checks: []),
                        "'\(update.ref)' points at commit \(tag.targetID.short), which has no version tag of '\(model)'"
                    ))
                continue
            }
            // A stage is held by a version (checked above, gate or not); the gate, where one applies.
            guard gated else { continue }
            let fields = Trailers.parse(tag.message)
            let resolved = ResolvedVersion(model: model, version: version, commit: tag.targetID, spelled: "\(model)@\(version)")
            // Only a genuine rollback skips "no regression" rules: it must replace the current
            // holder it names, and go back to a version that held this stage before.
            let isRollback =
                fields["Rollback-From"].map { from in
                    before.holders[stage]?.label == from
                        && before.events.contains { $0.kind == .assignment && $0.stage == stage && $0.commit == tag.targetID }
                } ?? false
            let report = try gate(resolved, stage: stage, holderState: before, skipRelative: isRollback)
            reports.append(report)
            if report.passed { continue }
            if let override = fields["Gate-Override"], report.forceAllowed {
                FileHandle.standardError.write(Data("mv: '\(update.ref)': gate overridden (\(override))\n".utf8))
                continue
            }
            failures.append(
                (report, "'\(update.ref)' assigns \(stage) to \(model)@\(version), which fails the gate: \(report.failureSummary)"))
        }
        guard failures.isEmpty else {
            throw MVError(
                failures.map(\.1).joined(separator: "; "),
                hint: "fix the model, or promote with 'mv promote … --force --reason …' where the gate allows it",
                gateReports: failures.map(\.0).filter { !$0.checks.isEmpty })
        }
        return reports
    }

    static let zero = String(repeating: "0", count: 40)
}
