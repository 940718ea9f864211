import Foundation
import Git
import SystemIO
import TensorStore

/// A file mv is about to commit: its repository path, its blob, and where its bytes sit
/// on disk (a staging folder) so the work tree can be filled without reading Git back.
public struct StagedFile: Sendable, Equatable {
    public var path: String
    public var blob: ObjectID
    public var mode: FileMode
    public var source: URL?
    /// The source is mv's own staging copy, so the work tree may take it by rename.
    public var ownsSource: Bool
    public var placement: Placement = .write

    /// How the file reaches the work tree.
    public enum Placement: String, Sendable, Equatable, Codable {
        /// Written from `source` or the blob.
        case write
        /// The work-tree file already holds exactly this blob; only its index entry is refreshed.
        case inPlace
        /// Index only, with git's skip-worktree bit (a tensor chunk; see `AssembledFile`).
        case skipWorktree
    }

    public init(path: String, blob: ObjectID, mode: FileMode = .blob, source: URL?, ownsSource: Bool = false) {
        self.path = path
        self.blob = blob
        self.mode = mode
        self.source = source
        self.ownsSource = ownsSource
    }
}

/// One commit mv wants to make on top of a given HEAD: files to write, folders whose whole
/// content those files replace, the message, and an optional annotated tag on the commit.
public struct Proposal: Sendable {
    public var files: [StagedFile]
    public var replacedFolders: [String]
    public var message: String
    public var tag: (name: String, message: String)?
    /// What the tag points at; nil for the new commit itself. Stage tags point at the
    /// promoted version's commit, as GTO reads them.
    public var tagTarget: ObjectID?
    /// The tagger time, when the tag must not share a second with an earlier event.
    public var tagTime: Date?
    /// Work-tree files assembled from chunks (not in the index: ignored by Git).
    public var assembled: [AssembledFile] = []

    public init(
        files: [StagedFile], replacedFolders: [String], message: String, tag: (name: String, message: String)?,
        tagTarget: ObjectID? = nil, tagTime: Date? = nil
    ) {
        self.files = files
        self.replacedFolders = replacedFolders
        self.message = message
        self.tag = tag
        self.tagTarget = tagTarget
        self.tagTime = tagTime
    }
}

/// What landed.
public struct Published: Sendable {
    public let commit: ObjectID
    public let tag: ObjectID?
    public let tagName: String?
    public let branch: String
    public let attempts: Int
    /// The proposal of the attempt that landed, to sync the work tree from.
    public let proposal: Proposal
}

/// The one place where mv writes history: every commit, tag and ref update goes through
/// `publish`. Refs move only by compare-and-swap (a tag ref must not exist yet, the branch
/// must still point at the parent), and a lost race is retried from fresh state, so
/// concurrent writers (other mv processes or plain git) never lose a commit or share a
/// version number. It also runs the repository's hooks around these writes, since libgit2
/// runs none: pre-commit (with GIT_INDEX_FILE holding the commit's tree), commit-msg,
/// reference-transaction (prepared/committed/aborted) and post-commit.
struct HistoryWriter {
    let repository: Repository
    let state: StateFiles
    var maxAttempts = 60
    /// Test seam: runs after the commit object is written and before the refs move.
    var beforeReferenceUpdate: (@Sendable () throws -> Void)?

    init(repository: Repository, state: StateFiles) {
        self.repository = repository
        self.state = state
    }

    /// Serialises mv's own writers; held across publish and the work-tree sync that follows.
    func lock() throws -> FileLock {
        try FileLock(path: state.writerLock)
    }

    /// Builds and lands a commit. `propose` is called with the current HEAD on every
    /// attempt, so anything derived from history (the next version number) is recomputed
    /// after a lost race.
    func publish(signature: Signature, reflogPrefix: String, propose: (Head) throws -> Proposal) throws -> Published {
        try repository.setReflogIdentity(signature)
        let hooks = HookRunner(repository: repository)
        var generator = SystemRandomNumberGenerator()
        // The journal of the attempt that lands stays for the work-tree update to remove.
        var landed = false
        defer { if !landed { WorkTreeJournal.remove(state) } }
        for attempt in 1...maxAttempts {
            let head = try repository.head()
            var proposal = try propose(head)
            PhaseTrace.mark("commit: proposal")
            let baseTree = try head.target.map { try repository.commit($0).treeID }
            let tree = try buildTree(base: baseTree, proposal: proposal)
            PhaseTrace.mark("commit: tree")
            proposal.message = try runCommitHooks(hooks, tree: tree, message: proposal.message)
            let commit = try repository.createCommit(
                tree: tree, parents: head.target.map { [$0] } ?? [],
                message: proposal.message, author: signature, committer: signature)
            var tagObject: ObjectID?
            var tagRef: String?
            var transaction = ""
            if let tag = proposal.tag {
                var tagger = signature
                if let time = proposal.tagTime { tagger.time = time }
                let object = try repository.createTagObject(
                    name: tag.name, target: proposal.tagTarget ?? commit, tagger: tagger, message: tag.message)
                tagObject = object
                transaction += "\(Self.zeroID) \(object) refs/tags/\(tag.name)\n"
            }
            transaction += "\(head.target?.description ?? Self.zeroID) \(commit) \(head.referenceName)\n"
            PhaseTrace.mark("commit: objects")
            let transactionInput = Data(transaction.utf8)
            do {
                try hooks.require(
                    "reference-transaction", arguments: ["prepared"], input: transactionInput,
                    refusing: "the ref updates of '\(proposal.message.prefix { $0 != "\n" })'")
            } catch {
                // As git does: a refused "prepared" is followed by "aborted".
                _ = try? hooks.run("reference-transaction", arguments: ["aborted"], input: transactionInput)
                throw error
            }
            // Before any ref moves: what a later mv needs to finish (or withdraw) this update.
            try WorkTreeJournal(
                proposal: proposal, commit: commit, reference: head.referenceName,
                tag: proposal.tag.flatMap { tag in tagObject.map { ("refs/tags/" + tag.name, $0) } }, repository: repository, state: state
            ).write(state)
            CrashPoint.reached("journal")
            if let tag = proposal.tag, let object = tagObject {
                let ref = "refs/tags/" + tag.name
                do {
                    try repository.createReference(ref, target: object, logMessage: "\(reflogPrefix): \(tag.name)")
                } catch let error as GitError where error.code == .exists || error.code == .locked {
                    // Another writer took this tag name; the next attempt proposes a fresh one.
                    if error.code == .locked { try refuseStaleLock(of: ref) }
                    try hooks.run("reference-transaction", arguments: ["aborted"], input: transactionInput)
                    backoff(attempt, &generator)
                    continue
                }
                tagRef = ref
            }
            CrashPoint.reached("tag")
            do {
                try beforeReferenceUpdate?()
                try repository.updateReference(
                    head.referenceName, to: commit, expecting: head.target,
                    logMessage: "\(reflogPrefix): \(proposal.message.prefix { $0 != "\n" })")
            } catch {
                // Withdraw the tag we published a moment ago so no ref points off the branch.
                if let tagRef, let tagObject { try? repository.deleteReference(tagRef, expecting: tagObject) }
                try hooks.run("reference-transaction", arguments: ["aborted"], input: transactionInput)
                if let gitError = error as? GitError, [.modified, .exists, .locked].contains(gitError.code) {
                    if gitError.code == .locked { try refuseStaleLock(of: head.referenceName) }
                    backoff(attempt, &generator)
                    continue
                }
                throw error
            }
            landed = true
            CrashPoint.reached("refs")
            PhaseTrace.mark("commit: refs")
            try hooks.run("reference-transaction", arguments: ["committed"], input: transactionInput)
            // Like git, the status of post-commit does not matter: the commit has landed.
            try hooks.run("post-commit")
            return Published(
                commit: commit, tag: tagObject, tagName: proposal.tag?.name,
                branch: head.branchName ?? "HEAD", attempts: attempt, proposal: proposal)
        }
        throw MVError(
            "gave up after \(maxAttempts) attempts: other writers kept moving the branch; nothing was committed",
            hint: "try again when the repository is quieter")
    }

    static let zeroID = String(repeating: "0", count: 40)

    /// A ref's lock file that has been there for over 2 s belongs to no running writer (git
    /// and mv hold one for milliseconds; mv's own are removed by the next mv): retrying would
    /// only fail the same way, so the lock is named instead.
    private func refuseStaleLock(of ref: String) throws {
        let folder = ref == "HEAD" ? repository.gitDirectory : repository.commonDirectory
        let lock = folder.appendingPathComponent(ref + ".lock")
        guard let stamp = try? FileStamp.of(lock.path), Date().timeIntervalSince1970 - Double(stamp.modifiedSeconds) > 2 else { return }
        throw MVError(
            "'\(lock.path)' exists: a git command is updating '\(ref)', or one was killed while it did; nothing was committed",
            hint: "if no git command is running in this repository, remove it ('rm \(lock.path)') and run the command again")
    }

    /// pre-commit sees the commit's tree through a temporary index in GIT_INDEX_FILE;
    /// commit-msg may rewrite the message file, and its version is what gets committed.
    private func runCommitHooks(_ hooks: HookRunner, tree: ObjectID, message: String) throws -> String {
        if hooks.exists("pre-commit") {
            try FileManager.default.createDirectory(at: state.root, withIntermediateDirectories: true)
            let index = state.hookScratch("index")
            defer { try? FileManager.default.removeItem(at: index) }
            try repository.writeIndex(of: tree, to: index)
            try hooks.require("pre-commit", environment: ["GIT_INDEX_FILE": index.path], refusing: "the commit")
        }
        guard hooks.exists("commit-msg") else { return message }
        try FileManager.default.createDirectory(at: state.root, withIntermediateDirectories: true)
        let file = state.hookScratch("COMMIT_EDITMSG")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(message.utf8).writeUnsynced(to: file)
        try hooks.require("commit-msg", arguments: [file.path], refusing: "the commit message")
        let edited = String(decoding: try Data(contentsOf: file), as: UTF8.self)
        return edited.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? message : edited
    }

    private func backoff(_ attempt: Int, _ generator: inout SystemRandomNumberGenerator) {
        let ceiling = min(200_000, 2_000 * (1 << min(attempt, 7)))
        usleep(UInt32(Int.random(in: 1_000...ceiling, using: &generator)))
    }

    /// HEAD's tree with each replaced folder swapped for a tree of exactly its staged files,
    /// and every other staged file set in place; nothing else changes.
    func buildTree(base: ObjectID?, proposal: Proposal) throws -> ObjectID {
        var changes: [(path: [String], entry: TreeEntry?)] = []
        var remaining = proposal.files
        for folder in proposal.replacedFolders {
            let prefix = folder + "/"
            let inside = remaining.filter { $0.path.hasPrefix(prefix) }
            remaining.removeAll { $0.path.hasPrefix(prefix) }
            let subtree = try writeNestedTree(inside.map { (String($0.path.dropFirst(prefix.count)), $0) })
            changes.append((components(folder), subtree.map { TreeEntry(name: "", mode: .tree, id: $0) }))
        }
        for file in remaining {
            changes.append((components(file.path), TreeEntry(name: "", mode: file.mode, id: file.blob)))
        }
        guard !changes.isEmpty else { return try base ?? repository.writeTree([]) }
        return try repository.replacingEntries(in: base, changes)
    }

    private func writeNestedTree(_ files: [(String, StagedFile)]) throws -> ObjectID? {
        guard !files.isEmpty else { return nil }
        var entries: [TreeEntry] = []
        var folders: [String: [(String, StagedFile)]] = [:]
        for (path, file) in files {
            if let slash = path.firstIndex(of: "/") {
                folders[String(path[..<slash]), default: []].append((String(path[path.index(after: slash)...]), file))
            } else {
                entries.append(TreeEntry(name: path, mode: file.mode, id: file.blob))
            }
        }
        for (name, children) in folders {
            if let id = try writeNestedTree(children) { entries.append(TreeEntry(name: name, mode: .tree, id: id)) }
        }
        return try repository.writeTree(entries)
    }

    private func components(_ path: String) -> [String] { path.split(separator: "/").map(String.init) }
}
