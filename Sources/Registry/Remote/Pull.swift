import Foundation
import Git
import SystemIO

/// What `mv pull` did.
public struct PullOutcome: Sendable {
    public enum Movement: Sendable, Equatable {
        /// The remote had nothing this clone lacked.
        case upToDate
        /// This clone's branch moved forward to the remote's.
        case fastForward
        /// This clone's unpushed commits were written again on top of the remote's.
        case replayed(commits: Int)
    }

    public let remote: String
    public let branch: String
    public let movement: Movement
    /// Unpushed tags published again under a free name: (old, new).
    public let renamed: [(old: String, new: String)]
    /// Tags of the remote that this clone did not have.
    public let received: [String]
    /// The LFS objects brought for the versions checked out, the stage holders and those
    /// asked for.
    public var lfs = LFSMovement()
    /// Why some of those could not come (the pull itself happened), if so.
    public var lfsProblem: String?
}

extension Registry {
    /// Fetches `remote`'s branch and tags, then makes this clone agree with it without ever
    /// rewriting what was pushed: a branch behind moves forward; a branch with unpushed
    /// commits of mv's own (new versions, evaluations, monitoring runs, stage moves) gets
    /// them written again on top of the remote's history, each unpushed version under the
    /// next free number of its model, and the stage, evaluation and monitoring tags that
    /// pointed at it follow; the remote's tags are then taken as they are. A version is a
    /// folder, so it is carried over whole, never merged line by line.
    ///
    /// Refuses, before changing anything, unpushed commits that touch files outside the
    /// registry (those are git's to merge) and merge commits among them.
    ///
    /// LFS objects: those of the versions the work tree will hold come before the branch
    /// moves (a failed download leaves everything as it was); then those of every stage's
    /// holder and of `versions` (`churn@v3`, `churn#staging`) — nothing of other versions,
    /// which come when a command reads them.
    public func pull(from remoteName: String?, versions: [String] = []) throws -> PullOutcome {
        let (git, branch, head) = try remoteSetup()
        let remote = try remoteName ?? defaultRemote(branch: branch, git: git)
        // The stage files are mv's to rewrite after a pull, as after any stage move.
        if let edited = try repository.status(under: ".mv/stages").first {
            throw MVError(
                "'\(edited.path)' has uncommitted changes; mv rewrites it from the tags",
                hint: "discard them with 'git checkout -- \(edited.path)', then mv pull")
        }
        let incoming = "refs/mv/incoming"
        // What a killed pull left is dropped first: it would bring back tags the remote deleted.
        try? dropReferences(under: incoming)
        defer { try? dropReferences(under: incoming) }
        // A remote without the branch yet (nothing pushed) has only tags to give, if any.
        let hasBranch = try remoteRefs(remote, branch: branch, git: git).branchTip != nil
        try git.remote(
            ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote, "+refs/tags/*:\(incoming)/tags/*"]
                + (hasBranch ? ["+refs/heads/\(branch):\(incoming)/branch"] : []),
            doing: "fetching from '\(remote)'")
        let theirTip = try repository.referenceTarget("\(incoming)/branch")
        let theirs = Dictionary(
            try repository.references(matching: "\(incoming)/tags/*").map {
                (String($0.name.dropFirst("\(incoming)/tags/".count)), $0.target)
            },
            uniquingKeysWith: { a, _ in a })
        let ours = Dictionary(
            try repository.references(matching: "refs/tags/*").map { (String($0.name.dropFirst("refs/tags/".count)), $0.target) },
            uniquingKeysWith: { a, _ in a })

        var movement = PullOutcome.Movement.upToDate
        var plan = Renumbering(theirs: theirs)
        var newTip = head
        var replayed: [ObjectID: ObjectID] = [:]
        if let theirTip, theirTip != head, !(try repository.isDescendant(head, of: theirTip)) {
            if try repository.isDescendant(theirTip, of: head) {
                movement = .fastForward
                newTip = theirTip
            } else {
                let replay = try replayPlan(from: head, onto: theirTip, ours: ours, git: git)
                plan.assign(replay, ours: ours, registry: self)
                (newTip, replayed) = try self.replay(replay, onto: theirTip, plan: plan)
                movement = .replayed(commits: replay.commits.count)
            }
        }
        // Our registry tags that collide with theirs but point into pushed history (two clones
        // promoting the same stage number) are renumbered too.
        plan.renameCollisions(ours: ours, registry: self)
        let tagEdits = try tagTransaction(plan: plan, replayed: replayed, ours: ours, theirs: theirs)

        var lfs = newTip == head ? LFSMovement() : try downloadLFSObjects(commits: [newTip], remote: remote, git: git)
        // The branch and work tree first (git refuses to overwrite uncommitted changes), then
        // every tag in one transaction; a transaction that fails puts the branch back.
        if newTip != head {
            // Another mv writing in this clone meanwhile would lose its commit to the move.
            guard try repository.head().target == head else {
                throw MVError("'\(branch)' moved while pulling (another mv or git at work here)", hint: "run mv pull again")
            }
            try moveBranch(to: newTip, from: head, git: git, fastForward: movement == .fastForward)
            PhaseTrace.mark("pull: branch moved")
        }
        if !tagEdits.commands.isEmpty {
            do {
                try git.check(["update-ref", "--stdin"], doing: "updating tags", input: tagEdits.commands)
            } catch {
                if newTip != head { try? moveBranch(to: head, from: newTip, git: git, fastForward: false) }
                throw error
            }
        }
        if newTip != head {
            try reassembleWorkTree()
            PhaseTrace.mark("pull: work tree")
        }
        // Stage files are rewritten from the tags, which only now are final.
        let changed = plan.renamed.keys.map { $0 } + tagEdits.received + tagEdits.retargeted
        let moved = Set(changed.compactMap { name in TagNames.parseEvent(name).flatMap { $0.stage == nil ? nil : $0.model } })
        try rewriteStagesFiles(moved.sorted { $0.value < $1.value })
        var outcome = PullOutcome(
            remote: remote, branch: branch, movement: movement, renamed: plan.renamedList, received: tagEdits.received)
        // A version named that does not exist is an error of its own (the pull stands).
        let requested = try versions.map { try resolve($0) }
        do {
            lfs.add(try downloadLFSObjects(commits: try defaultLFSCommits(), remote: remote, git: git))
            for resolved in requested {
                lfs.add(try downloadLFSObjects(commits: [resolved.commit], models: [resolved.model], remote: remote, git: git))
            }
            // Tensor files a clone left as pointers (their objects did not come then) get them.
            if lfs.objects > 0 { try reassembleWorkTree() }
        } catch {
            outcome.lfsProblem = "\(error)"
        }
        outcome.lfs = lfs
        return outcome
    }

    /// Commits `.mv/stages/<model>.yaml` where it no longer says what the tags say.
    func rewriteStagesFiles(_ models: [ModelName]) throws {
        guard let head = try repository.head().target else { return }
        let tree = try repository.tree(repository.commit(head).treeID)
        var files: [StagedFile] = []
        let staging = try makeStagingFolder()
        defer { try? FileManager.default.removeItem(at: staging) }
        for model in models {
            let path = StagesFile.path(model)
            let text = StagesFile.render(try state(of: model))
            let current = try tree.entry(atPath: path).map { String(decoding: try repository.objects.readBlob($0.id), as: UTF8.self) }
            guard current != text else { continue }
            let source = staging.appendingPathComponent(UUID().uuidString)
            try Data(text.utf8).writeUnsynced(to: source)
            files.append(StagedFile(path: path, blob: try repository.objects.writeBlob(fileAt: source), source: source))
        }
        guard !files.isEmpty else { return }
        let lock = try lockForWriting()
        defer { withExtendedLifetime(lock) {} }
        let published = try writer.publish(signature: repository.defaultSignature(), reflogPrefix: "mv pull") { _ in
            Proposal(
                files: files, replacedFolders: [],
                message: "Stage holders rewritten from the tags after mv pull\n\n"
                    + files.map { "Updates \($0.path)." }.joined(separator: "\n") + "\n",
                tag: nil)
        }
        try workTree.sync(published.proposal)
    }

    /// `git merge --ff-only` or `git reset --keep`: both move the branch, the index and the
    /// work tree together and stop, changing nothing, where uncommitted changes would be lost.
    func moveBranch(to target: ObjectID, from current: ObjectID, git: GitCLI, fastForward: Bool) throws {
        let arguments =
            fastForward ? ["merge", "--ff-only", "--quiet", target.description] : ["reset", "--keep", "--quiet", target.description]
        let result = try git.run(arguments)
        guard result.status == 0 else {
            let reason = result.error.split(separator: "\n").first.map(String.init) ?? "exit status \(result.status)"
            throw MVError(
                "cannot move the branch to the pulled history: \(reason)",
                hint: "commit or stash your uncommitted changes, then mv pull again")
        }
    }

    /// Deletes every reference under `prefix` (best effort: what is left is fetched over next time).
    func dropReferences(under prefix: String) throws {
        for ref in try repository.references(matching: "\(prefix)/*") {
            try? repository.deleteReference(ref.name, expecting: ref.target)
        }
    }

    /// One unpushed commit and the registry tags on it.
    struct ReplayedCommit {
        let commit: Commit
        let parent: ObjectID
        /// (path, the entry in this commit or nil when deleted).
        let changes: [(path: String, entry: TreeEntry?)]
        /// The models whose version this commit registers, with that version.
        let versions: [(model: ModelName, version: SemanticVersion)]
        /// The model folders carried whole: those of the versions, and those a rollback restored.
        let folders: [ModelName]
    }

    struct Replay {
        let base: ObjectID
        let commits: [ReplayedCommit]
    }

    /// The unpushed commits, oldest first, checked before anything is written: each may touch
    /// only a model folder it registers a version of (or, a rollback, restores), a model's
    /// evaluation or monitoring reports, or the stage files mv rewrites from tags.
    func replayPlan(from head: ObjectID, onto theirTip: ObjectID, ours: [String: ObjectID], git: GitCLI) throws -> Replay {
        let found = try git.run(["merge-base", head.description, theirTip.description])
        guard found.status == 0, let base = ObjectID(hex: found.output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw MVError("this clone and the remote share no history", hint: "clone the remote again and add your versions there")
        }
        let list = try git.check(["rev-list", "--reverse", "--topo-order", "\(base)..\(head)"], doing: "listing unpushed commits")
        var versionsAt: [ObjectID: [(ModelName, SemanticVersion)]] = [:]
        for (name, target) in ours {
            guard let event = TagNames.parseEvent(name), event.kind == .registration, let version = event.version else { continue }
            let commit = try repository.annotatedTag(target)?.targetID ?? target
            versionsAt[commit, default: []].append((event.model, version))
        }
        let root = config.modelsRoot + "/"
        var commits: [ReplayedCommit] = []
        for line in list.split(separator: "\n") {
            guard let id = ObjectID(hex: String(line)) else { continue }
            let commit = try repository.commit(id)
            guard commit.parentIDs.count == 1, let parent = commit.parentIDs.first else {
                throw MVError(
                    "unpushed commit \(id.short) ('\(commit.summary)') is a merge; mv pull replays only mv's own commits",
                    hint: "integrate with git (git pull --rebase), then mv pull")
            }
            let changes = try treeChanges(from: parent, to: id, git: git)
            let versions = versionsAt[id] ?? []
            // A rollback restores the folders of the models it names, as a version writes its own:
            // written again in order, it leaves the folder as it would have been had it come last.
            var folders = versions.map(\.0)
            if Trailers.parse(commit.message)["Rollback-From"] != nil {
                folders += changes.compactMap { Self.model(ofPath: $0.path, root: config.modelsRoot) }
            }
            for change in changes {
                let path = change.path
                let inRegisteredFolder = folders.contains { path.hasPrefix(root + $0.value + "/") }
                let report = path.hasPrefix(root) && (path.contains("/eval/") || path.contains("/monitoring/"))
                guard inRegisteredFolder || report || path.hasPrefix(".mv/stages/") else {
                    throw MVError(
                        "unpushed commit \(id.short) ('\(commit.summary)') changes '\(path)', which mv does not renumber",
                        hint: "integrate it with git (git pull --rebase), then mv pull")
                }
            }
            commits.append(
                ReplayedCommit(
                    commit: commit, parent: parent, changes: changes, versions: versions.map { ($0.0, $0.1) },
                    folders: folders.reduce(into: [ModelName]()) { if !$0.contains($1) { $0.append($1) } }))
        }
        return Replay(base: base, commits: commits)
    }

    /// Paths that differ between two commits, with the entry in the second (nil: deleted).
    func treeChanges(from old: ObjectID, to new: ObjectID, git: GitCLI) throws -> [(path: String, entry: TreeEntry?)] {
        let output = try git.check(["diff-tree", "-r", "-z", "--no-renames", old.description, new.description], doing: "comparing commits")
        let fields = output.split(separator: "\0", omittingEmptySubsequences: false)
        var changes: [(String, TreeEntry?)] = []
        var index = 0
        while index + 1 < fields.count {
            // ":oldmode newmode oldid newid status" then the path.
            let meta = fields[index].split(separator: " ")
            let path = String(fields[index + 1])
            index += 2
            guard meta.count == 5, let mode = UInt32(meta[1], radix: 8), let id = ObjectID(hex: String(meta[3])) else { continue }
            let name = String(path.split(separator: "/").last ?? "")
            changes.append((path, meta[4] == "D" ? nil : FileMode(rawValue: mode).map { TreeEntry(name: name, mode: $0, id: id) }))
        }
        return changes
    }

    /// Writes the unpushed commits again on top of `theirTip`, versions under their new
    /// numbers; returns the new tip and each old commit's new one. Only objects are written
    /// here, no reference.
    func replay(_ replay: Replay, onto theirTip: ObjectID, plan: Renumbering) throws -> (ObjectID, [ObjectID: ObjectID]) {
        var tip = theirTip
        var replayed: [ObjectID: ObjectID] = [:]
        let root = config.modelsRoot
        for item in replay.commits {
            let tipTree = try repository.commit(tip).treeID
            let parentTree = try repository.tree(repository.commit(item.parent).treeID)
            let current = try repository.tree(tipTree)
            var edits: [(path: [String], entry: TreeEntry?)] = []
            // A registered version: its folder, whole, as this commit has it.
            for model in item.folders {
                let folder = "\(root)/\(model)"
                guard let entry = try repository.tree(item.commit.treeID).entry(atPath: folder), entry.isTree else { continue }
                let rewritten = try rewriteFolder(entry.id, model: model, plan: plan)
                edits.append((folder.split(separator: "/").map(String.init), TreeEntry(name: model.value, mode: .tree, id: rewritten)))
            }
            for change in item.changes {
                let path = change.path
                if item.folders.contains(where: { path.hasPrefix("\(root)/\($0)/") }) || path.hasPrefix(".mv/stages/") {
                    // Carried with its folder; stage files are rewritten from the tags by the next stage move.
                    continue
                }
                // A report: theirs must not have changed the same file since the common history.
                let map = Self.model(ofPath: path, root: root).flatMap { plan.versions[$0] } ?? [:]
                let rewritten = { (entry: TreeEntry?) throws -> TreeEntry? in
                    guard let entry, !map.isEmpty else { return entry }
                    return TreeEntry(name: entry.name, mode: entry.mode, id: try self.rewriteBlob(entry.id, map: map))
                }
                // The tip holds earlier replayed commits with their new numbers: compare alike.
                let before = try parentTree.entry(atPath: path)
                let now = try current.entry(atPath: path)
                let entry = try rewritten(change.entry)
                let unchanged = [before?.id, try rewritten(before)?.id, change.entry?.id, entry?.id]
                if !unchanged.contains(now?.id) {
                    throw MVError(
                        "'\(path)' was changed both here (unpushed commit \(item.commit.id.short)) and on the remote",
                        hint: "nothing was changed here; merge it with git, then mv pull")
                }
                edits.append((path.split(separator: "/").map(String.init), entry))
            }
            let tree = edits.isEmpty ? tipTree : try repository.replacingEntries(in: tipTree, edits)
            let models = item.folders + item.changes.compactMap { Self.model(ofPath: $0.path, root: root) }
            var message = item.commit.message
            for model in Set(models) { message = Renumbering.rewrite(message, plan.versions[model] ?? [:]) }
            tip = try repository.createCommit(
                tree: tree, parents: [tip], message: message, author: item.commit.author, committer: item.commit.committer)
            replayed[item.commit.id] = tip
        }
        return (tip, replayed)
    }

    /// The model a path under the models root, or a stage file, belongs to.
    static func model(ofPath path: String, root: String) -> ModelName? {
        if path.hasPrefix(".mv/stages/"), path.hasSuffix(".yaml") {
            return try? ModelName(String(path.dropFirst(".mv/stages/".count).dropLast(".yaml".count)))
        }
        guard path.hasPrefix(root + "/") else { return nil }
        return path.dropFirst(root.count + 1).split(separator: "/").first.flatMap { try? ModelName(String($0)) }
    }

    /// A version folder with its version number rewritten where files name it (the manifest,
    /// the model card, the reports); the tensors are untouched.
    func rewriteFolder(_ id: ObjectID, model: ModelName, plan: Renumbering) throws -> ObjectID {
        guard let map = plan.versions[model], !map.isEmpty else { return id }
        var edits: [(path: [String], entry: TreeEntry?)] = []
        func visit(_ tree: ObjectID, _ prefix: [String]) throws {
            for entry in try repository.tree(tree).entries {
                if entry.isTree, entry.name == "eval" || entry.name == "monitoring" {
                    try visit(entry.id, prefix + [entry.name])
                } else if !entry.isTree, entry.name.hasSuffix(".yaml") || entry.name == "README.md" {
                    let rewritten = try rewriteBlob(entry.id, map: map)
                    if rewritten != entry.id {
                        edits.append((prefix + [entry.name], TreeEntry(name: entry.name, mode: entry.mode, id: rewritten)))
                    }
                }
            }
        }
        try visit(id, [])
        return edits.isEmpty ? id : try repository.replacingEntries(in: id, edits)
    }

    func rewriteBlob(_ id: ObjectID, map: [SemanticVersion: SemanticVersion]) throws -> ObjectID {
        let text = String(decoding: try repository.objects.readBlob(id), as: UTF8.self)
        let rewritten = Renumbering.rewrite(text, map)
        return rewritten == text ? id : try repository.objects.writeBlob(Data(rewritten.utf8))
    }

    /// The `git update-ref --stdin` commands that give this clone the remote's tags and its
    /// own renamed ones, the names received, and the names kept but moved to a replayed commit.
    /// Built as the final value of every tag, then one command per tag that changes (a name
    /// can be both a renamed tag's new name and another's old one: v2 → v3 → v4).
    func tagTransaction(plan: Renumbering, replayed: [ObjectID: ObjectID], ours: [String: ObjectID], theirs: [String: ObjectID]) throws -> (
        commands: String, received: [String], retargeted: [String]
    ) {
        var final = ours.mapValues { Optional($0) }
        var received: [String] = []
        var retargeted: [String] = []
        // A tag object for `name` on the replayed commit, its message naming the new versions.
        func moved(_ name: String, from target: ObjectID) throws -> ObjectID? {
            let tag = try repository.annotatedTag(target)
            let commit = tag?.targetID ?? target
            let destination = replayed[commit] ?? commit
            guard let tag else { return destination }
            let map = Self.registryModel(ofTag: name).flatMap { plan.versions[$0] } ?? [:]
            let message = Renumbering.rewrite(tag.message, map)
            if destination == commit && message == tag.message && name == tag.name { return nil }
            return try repository.createTagObject(
                name: name, target: destination, tagger: tag.tagger ?? repository.defaultSignature(), message: message)
        }
        for (old, _) in plan.renamed { final[old] = .some(nil) }
        for (old, new) in plan.renamed.sorted(by: { $0.key < $1.key }) {
            guard let target = ours[old] else { continue }
            final[new] = try moved(new, from: target) ?? target
        }
        // An unpushed tag whose commit was written again follows it under its own name.
        for (name, target) in ours where theirs[name] == nil && plan.renamed[name] == nil {
            guard Self.registryModel(ofTag: name) != nil, let id = try moved(name, from: target), id != target else { continue }
            final[name] = id
            retargeted.append(name)
        }
        // Theirs as they are: new names, and the names ours gave up.
        for (name, target) in theirs {
            if let mine = ours[name] {
                guard mine != target, plan.renamed[name] != nil else { continue }
            }
            final[name] = target
            received.append(name)
        }
        var lines: [String] = []
        for (name, value) in final.sorted(by: { $0.key < $1.key }) {
            let current = ours[name]
            switch (current, value) {
            case (nil, let new?): lines.append("create refs/tags/\(name) \(new)")
            case (let old?, nil): lines.append("delete refs/tags/\(name) \(old)")
            case (let old?, let new?) where old != new: lines.append("update refs/tags/\(name) \(new) \(old)")
            default: continue
            }
        }
        guard !lines.isEmpty else { return ("", received.sorted(), retargeted.sorted()) }
        return ("start\n" + lines.joined(separator: "\n") + "\nprepare\ncommit\n", received.sorted(), retargeted.sorted())
    }
}

/// New names for unpushed registry tags: versions after the remote's newest of their model,
/// stage counters after the remote's highest, evaluation and monitoring numbers per (new)
/// version after the remote's; shared by the replay and the tag transaction.
struct Renumbering {
    /// Their tags, by name.
    let theirs: [String: ObjectID]
    /// Per model, old version → new version (only those that change).
    var versions: [ModelName: [SemanticVersion: SemanticVersion]] = [:]
    /// Old tag name → new tag name.
    var renamed: [String: String] = [:]

    init(theirs: [String: ObjectID]) {
        self.theirs = theirs
    }

    var renamedList: [(old: String, new: String)] { renamed.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }

    /// Every name taken on either side or by an earlier rename.
    func taken(_ ours: [String: ObjectID]) -> Set<String> {
        Set(theirs.keys).union(ours.keys).union(renamed.values)
    }

    /// Versions first, in the order they were made, each after the newest of its model on
    /// the remote (or kept when still free and newer); then every registry tag on a replayed
    /// commit whose version moved or whose name the remote holds.
    mutating func assign(_ replay: Registry.Replay, ours: [String: ObjectID], registry: Registry) {
        var newest: [ModelName: SemanticVersion] = [:]
        for name in theirs.keys {
            guard let event = TagNames.parseEvent(name), event.kind == .registration, let version = event.version else { continue }
            newest[event.model] = max(newest[event.model] ?? version, version)
        }
        for item in replay.commits {
            for (model, version) in item.versions {
                let floor = newest[model]
                let target: SemanticVersion
                if let floor, version <= floor || theirs[TagNames.version(model, version)] != nil {
                    target = Self.next(after: floor, like: version)
                } else {
                    target = version
                }
                newest[model] = target
                if target != version {
                    versions[model, default: [:]][version] = target
                    renamed[TagNames.version(model, version)] = TagNames.version(model, target)
                    // A deregistration names its version: it moves with it.
                    if ours[TagNames.deregistration(model, version)] != nil {
                        renamed[TagNames.deregistration(model, version)] = TagNames.deregistration(model, target)
                    }
                }
            }
        }
        // Evaluation and monitoring tags of renumbered versions take the new version's name.
        for name in ours.keys.sorted() {
            for (parse, make) in Self.numbered {
                guard let parsed = parse("refs/tags/" + name), let moved = versions[parsed.model]?[parsed.version] else { continue }
                var number = parsed.number
                while taken(ours).contains(make(parsed.model, moved, number)) { number += 1 }
                renamed[name] = make(parsed.model, moved, number)
            }
        }
    }

    /// Our unpushed registry tags that the remote's numbering overtook and that were not
    /// renamed yet: stage tags at or below the remote's highest counter of their model take
    /// the next counters, in order (so an unpushed promotion stays the newest, as it would
    /// have been had it been pushed); evaluation and monitoring tags whose name the remote
    /// holds take the next free number of their version.
    mutating func renameCollisions(ours: [String: ObjectID], registry: Registry) {
        var theirCounters: [ModelName: Int] = [:]
        for name in theirs.keys {
            guard let event = TagNames.parseEvent(name), let counter = event.counter else { continue }
            theirCounters[event.model] = max(theirCounters[event.model] ?? 0, counter)
        }
        var next = theirCounters
        for name in ours.keys {
            guard theirs[name] == nil, let event = TagNames.parseEvent(name), let counter = event.counter else { continue }
            next[event.model] = max(next[event.model] ?? 0, counter)
        }
        let unpushedStages = ours.keys.compactMap { name -> (String, ModelName, RegistryEvent.Kind, String, Int)? in
            guard theirs[name] != ours[name], renamed[name] == nil, let event = TagNames.parseEvent(name),
                event.kind == .assignment || event.kind == .unassignment, let stage = event.stage, let counter = event.counter,
                counter <= (theirCounters[event.model] ?? 0)
            else { return nil }
            return (name, event.model, event.kind, stage, counter)
        }.sorted { ($0.1.value, $0.4) < ($1.1.value, $1.4) }
        for (name, model, kind, stage, _) in unpushedStages {
            let counter = (next[model] ?? 0) + 1
            next[model] = counter
            renamed[name] =
                kind == .assignment
                ? TagNames.assignment(model, stage: stage, counter: counter)
                : TagNames.unassignment(model, stage: stage, counter: counter)
        }
        for name in ours.keys.sorted() where renamed[name] == nil && theirs[name] != nil && theirs[name] != ours[name] {
            for (parse, make) in Self.numbered {
                guard let parsed = parse("refs/tags/" + name) else { continue }
                var number = parsed.number
                while taken(ours).contains(make(parsed.model, parsed.version, number)) { number += 1 }
                renamed[name] = make(parsed.model, parsed.version, number)
            }
        }
    }

    /// Evaluation and monitoring tags: `<kind>/<model>/<version>/<N>`.
    static var numbered:
        [((String) -> (model: ModelName, version: SemanticVersion, number: Int)?, (ModelName, SemanticVersion, Int) -> String)]
    {
        [(TagNames.parseEvaluation(ref:), TagNames.evaluation), (TagNames.parseMonitoring(ref:), TagNames.monitoring)]
    }

    /// The next version after `floor` that bumps the same part `like` bumped (a major
    /// version stays a major one).
    static func next(after floor: SemanticVersion?, like version: SemanticVersion) -> SemanticVersion {
        guard let floor else { return version }
        if version.minor == 0 && version.patch == 0 { return SemanticVersion(major: floor.major + 1) }
        if version.patch == 0 { return SemanticVersion(major: floor.major, minor: floor.minor + 1) }
        return SemanticVersion(major: floor.major, minor: floor.minor, patch: floor.patch + 1)
    }

    /// `text` with every `vX.Y.Z` that `map` moves written as its new number, in one pass
    /// (so v2 → v3 and v3 → v4 do not chain).
    static func rewrite(_ text: String, _ map: [SemanticVersion: SemanticVersion]) -> String {
        guard !map.isEmpty else { return text }
        var out = ""
        var rest = Substring(text)
        while let range = rest.range(of: #"v[0-9]+\.[0-9]+\.[0-9]+"#, options: .regularExpression) {
            out += rest[..<range.lowerBound]
            let token = String(rest[range])
            // Not inside a longer number (v12.0.0 is not v2.0.0).
            let before = range.lowerBound == rest.startIndex ? nil : rest[rest.index(before: range.lowerBound)]
            // Neither inside a longer word or number (v12.0.0, xv2.0.0) nor followed by more of
            // one (v2.0.0.1, v2.0.0-rc1, v2.0.0+build).
            let after = rest[range.upperBound...].prefix(2)
            let continues =
                after.first.map { $0.isNumber || $0.isLetter || $0 == "-" || $0 == "+" || $0 == "_" } ?? false
                || (after.first == "." && (after.dropFirst().first?.isNumber ?? false))
            if let version = SemanticVersion(tag: token), let moved = map[version], !(before?.isNumber ?? false),
                !(before?.isLetter ?? false), !continues
            {
                out += moved.description
            } else {
                out += token
            }
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
