import Foundation
import Git
import SystemIO

/// What `mv push` sent.
public struct PushOutcome: Sendable {
    public let remote: String
    public let branch: String
    /// The tags the remote lacked and now holds.
    public let tags: [String]
    /// Whether the branch moved on the remote.
    public let branchMoved: Bool
    /// The LFS objects uploaded first.
    public var lfs = LFSMovement()
}

/// A remote's branch tip and tags, as `git ls-remote` lists them.
struct RemoteRefs {
    var branchTip: ObjectID?
    /// Tag name (without `refs/tags/`) → the object the tag ref points at.
    var tags: [String: ObjectID]
}

extension Registry {
    /// Pushes the current branch and the registry's tags to
    /// `remote` through the git CLI, so the user's credentials and hooks (the pre-push gate)
    /// apply, in one atomic push. Before anything is sent it stops when the remote holds one
    /// of these tag names for another object — another clone published the same version or
    /// stage number — or has branch commits this clone lacks: both are for `mv pull`.
    public func push(to remoteName: String?, models names: [String] = []) throws -> PushOutcome {
        let (git, branch, head) = try remoteSetup()
        let remote = try remoteName ?? defaultRemote(branch: branch, git: git)
        let theirs = try remoteRefs(remote, branch: branch, git: git)
        // The branch carries every model's versions, so every model's tags go with it (a
        // version pushed without its tag could later be numbered again elsewhere); named
        // models must exist.
        for name in names where try versions(of: name).isEmpty { throw try unknownModel(ModelName(name)) }
        let ours = try registryTags(models: [])
        let conflicts = ours.filter { tag in theirs.tags[tag.name].map { $0 != tag.target } ?? false }.map(\.name)
        if !conflicts.isEmpty {
            throw MVError(
                "'\(remote)' already holds \(Self.listing(conflicts)) for other commits: another clone published the same numbers",
                hint: "run 'mv pull \(remote)' to renumber your unpushed versions after theirs, then 'mv push \(remote)' again")
        }
        if let tip = theirs.branchTip, tip != head {
            guard (try? repository.commit(tip)) != nil, try repository.isDescendant(head, of: tip) else {
                throw MVError(
                    "'\(remote)' has commits on '\(branch)' that this clone lacks",
                    hint: "run 'mv pull \(remote)' first, then 'mv push \(remote)'")
            }
        }
        let missing = ours.filter { theirs.tags[$0.name] == nil }
        try checkStageTargets(missing)
        let moves = theirs.branchTip != head
        guard moves || !missing.isEmpty else {
            return PushOutcome(remote: remote, branch: branch, tags: [], branchMoved: false)
        }
        // Objects before the refs that need them: a clone of the remote never sees a pointer
        // whose object is not there.
        let lfs =
            try usesLFS
            ? uploadLFSObjects(
                remote: remote, git: git, head: head, tagTargets: missing.map(\.target),
                theirs: (theirs.branchTip.map { [$0] } ?? []) + Array(theirs.tags.values))
            : LFSMovement()
        let refspecs = ["refs/heads/\(branch):refs/heads/\(branch)"] + missing.map { "refs/tags/\($0.name):refs/tags/\($0.name)" }
        let status = try git.runAttached(["push", "--atomic", remote] + refspecs)
        guard status == 0 else {
            throw MVError(
                "git push to '\(remote)' failed (exit status \(status)); nothing was pushed",
                hint: "git's message is above: a hook's refusal, credentials, or a remote that moved meanwhile (then mv pull)")
        }
        return PushOutcome(remote: remote, branch: branch, tags: missing.map(\.name), branchMoved: moves, lfs: lfs)
    }

    /// Whether tensors here may be LFS pointers: LFS storage, or LFS objects ever stored or
    /// fetched in this clone (a repository that switched back to Git blobs).
    var usesLFS: Bool {
        config.storage == .lfs || FileManager.default.fileExists(atPath: tensors.lfsObjects.store.root.path)
    }

    /// The git CLI in the work tree, the current branch and its tip.
    func remoteSetup() throws -> (GitCLI, branch: String, head: ObjectID) {
        guard let workdir = repository.workingDirectory else {
            throw MVError("this is a bare repository; push and pull from a clone with a work tree")
        }
        let head = try repository.head()
        guard let branch = head.branchName else {
            throw MVError("HEAD is detached; mv push and pull work on a branch", hint: "git switch <branch>")
        }
        guard let tip = head.target else {
            throw MVError("branch '\(branch)' has no commits yet", hint: "mv init commits the registry's first files")
        }
        return (GitCLI(directory: workdir), branch, tip)
    }

    /// The branch's upstream remote, else the only remote, else `origin`.
    func defaultRemote(branch: String, git: GitCLI) throws -> String {
        let upstream = try git.run(["config", "--get", "branch.\(branch).remote"])
        let configured = upstream.output.trimmingCharacters(in: .whitespacesAndNewlines)
        if upstream.status == 0, !configured.isEmpty { return configured }
        let remotes = try git.run(["remote"]).output.split(separator: "\n").map(String.init)
        if remotes.count == 1, let only = remotes.first { return only }
        guard remotes.contains("origin") else {
            throw MVError(
                remotes.isEmpty ? "this repository has no remote" : "no remote given and '\(branch)' has no upstream",
                hint: remotes.isEmpty ? "git remote add origin URL" : "name one: \(remotes.joined(separator: ", "))")
        }
        return "origin"
    }

    /// `git ls-remote`: the remote's tip of `branch` and its tags.
    func remoteRefs(_ remote: String, branch: String, git: GitCLI) throws -> RemoteRefs {
        let listing = try git.remote(
            ["ls-remote", "--refs", remote, "refs/heads/\(branch)", "refs/tags/*"], doing: "reading the refs of '\(remote)'")
        var refs = RemoteRefs(branchTip: nil, tags: [:])
        for line in listing.split(separator: "\n") {
            let fields = line.split(separator: "\t", maxSplits: 1)
            guard fields.count == 2, let id = ObjectID(hex: String(fields[0])) else { continue }
            if fields[1] == "refs/heads/\(branch)" {
                refs.branchTip = id
            } else if fields[1].hasPrefix("refs/tags/") {
                refs.tags[String(fields[1].dropFirst("refs/tags/".count))] = id
            }
        }
        return refs
    }

    /// The registry's tags here — versions, stages, deprecations, evaluations, monitoring
    /// runs — of `models` (every model when empty), names without `refs/tags/`.
    func registryTags(models: [ModelName]) throws -> [(name: String, target: ObjectID)] {
        let wanted = Set(models)
        return try repository.references(matching: "refs/tags/*").compactMap { ref in
            let name = String(ref.name.dropFirst("refs/tags/".count))
            guard let model = Self.registryModel(ofTag: name), wanted.isEmpty || wanted.contains(model) else { return nil }
            return (name, ref.target)
        }
    }

    /// The model a registry tag belongs to; nil for any other tag.
    static func registryModel(ofTag name: String) -> ModelName? {
        if let event = TagNames.parseEvent(name) { return event.model }
        return (TagNames.parseEvaluation(ref: "refs/tags/" + name) ?? TagNames.parseMonitoring(ref: "refs/tags/" + name))?.model
    }

    /// A stage may only be held by a version: every stage tag must point at a commit that
    /// carries a version tag of its model (what git or GTO could write otherwise).
    func checkStageTargets(_ tags: [(name: String, target: ObjectID)]) throws {
        for tag in tags {
            guard let event = TagNames.parseEvent(tag.name), event.kind == .assignment else { continue }
            let commit = try repository.annotatedTag(tag.target)?.targetID ?? tag.target
            // The same rule the hooks apply (checkStageAssignments): a version commit of the model.
            guard try state(of: event.model).versionCommits.values.contains(commit) else {
                throw MVError(
                    "stage tag '\(tag.name)' points at \(commit.short), which carries no version tag of '\(event.model)'",
                    hint:
                        "delete it (git tag -d '\(tag.name)') and promote a version: mv promote \(event.model)@vN --stage \(event.stage ?? "production")"
                )
            }
        }
    }

    /// At most three names, then how many more.
    static func listing(_ names: [String]) -> String {
        let shown = names.prefix(3).joined(separator: ", ")
        return names.count > 3 ? "\(shown) and \(names.count - 3) more" : shown
    }
}
