import Foundation
import Git
import ModelFormat
import SystemIO
import TensorStore

/// What an LFS transfer moved, for the command's summary.
public struct LFSMovement: Sendable, Equatable {
    public var objects = 0
    public var bytes: Int64 = 0
    /// Objects the versions need that were already where they had to go.
    public var present = 0
    public var endpoint: String?

    mutating func add(_ other: LFSMovement) {
        objects += other.objects
        bytes += other.bytes
        present += other.present
        endpoint = endpoint ?? other.endpoint
    }
}

extension Registry {
    /// The LFS pointers among the tensors of `commits`' model folders (of `models` only, when
    /// given). Trees already seen are skipped, so a history where each version changes a
    /// few tensors costs about one tree per version.
    func lfsPointers(inCommits commits: [ObjectID], models: Set<ModelName>? = nil) throws -> [LFSPointer] {
        var seenTrees = Set<ObjectID>()
        var blobs: [ObjectID] = []
        var seenBlobs = Set<ObjectID>()
        func collect(_ tree: ObjectID) throws {
            guard seenTrees.insert(tree).inserted else { return }
            for entry in try repository.tree(tree).entries {
                if entry.isTree {
                    try collect(entry.id)
                } else if seenBlobs.insert(entry.id).inserted {
                    blobs.append(entry.id)
                }
            }
        }
        for commit in commits {
            let root = try repository.tree(repository.commit(commit).treeID)
            guard let folders = try root.entry(atPath: config.modelsRoot), folders.isTree else { continue }
            for folder in try repository.tree(folders.id).entries where folder.isTree {
                if let wanted = models, !wanted.contains(where: { $0.value == folder.name }) { continue }
                if let params = try repository.tree(folder.id).entry(atPath: "params"), params.isTree { try collect(params.id) }
            }
        }
        var pointers: [LFSPointer] = []
        var seen = Set<String>()
        for blob in blobs {
            if let pointer = try tensors.lfsObjects.pointer(blob), seen.insert(pointer.oid).inserted { pointers.append(pointer) }
        }
        return pointers
    }

    /// The transfer for `remote`'s LFS store.
    func lfsTransfer(remote: String, git: GitCLI, forPush: Bool = false) throws -> (any LFSTransfer, LFSEndpoint) {
        let endpoint = try LFSEndpoint.discover(remote: remote, git: git, forPush: forPush)
        switch endpoint {
        case .directory(let root):
            return (DirectoryTransfer(root: root), endpoint)
        case .http(let url):
            return (HTTPTransfer(endpoint: url, git: git, remote: remote), endpoint)
        }
    }

    /// Uploads the LFS objects of the commits that `head` and the tags to push (`tagTargets`,
    /// tag objects or commits) reach and the remote's refs (`theirs`, those this clone knows)
    /// do not, before the refs that need them are pushed.
    func uploadLFSObjects(remote: String, git: GitCLI, head: ObjectID, tagTargets: [ObjectID], theirs: [ObjectID]) throws
        -> LFSMovement
    {
        let tips = try [head] + tagTargets.map { try repository.annotatedTag($0)?.targetID ?? $0 }
        var arguments = ["rev-list"] + Set(tips).map(\.description)
        for known in Set(theirs) where (try? repository.commit(repository.annotatedTag(known)?.targetID ?? known)) != nil {
            arguments.append("^" + (try repository.annotatedTag(known)?.targetID ?? known).description)
        }
        let commits = try git.check(arguments, doing: "listing the commits to push").split(separator: "\n").compactMap {
            ObjectID(hex: String($0))
        }
        let pointers = try lfsPointers(inCommits: commits)
        PhaseTrace.mark("push: \(pointers.count) LFS pointers listed")
        guard !pointers.isEmpty else { return LFSMovement() }
        let store = tensors.lfsObjects.store
        let (transfer, endpoint) = try lfsTransfer(remote: remote, git: git, forPush: true)
        // An object this clone lacks (a clone that never read that version) is fine when the
        // remote has it; otherwise nothing is pushed.
        let absent = pointers.filter { !store.contains($0) }
        if !absent.isEmpty, let lost = try transfer.lacking(absent).first {
            throw MVError(
                "the LFS object \(lost) of a version to push is neither in this clone nor on '\(remote)'; nothing was pushed",
                hint: "fetch it first ('mv pull', or 'git lfs fetch --all') from the clone or remote that has it")
        }
        let sent = try transfer.upload(
            pointers.filter { store.contains($0) }, from: store,
            progress: progress.map { report in { report($0, $1, "uploading tensors") } })
        PhaseTrace.mark("push: LFS objects uploaded")
        return LFSMovement(objects: sent.objects, bytes: sent.bytes, present: pointers.count - sent.objects, endpoint: endpoint.description)
    }

    /// Downloads the LFS objects the tensors of `commits` need and this clone lacks.
    func downloadLFSObjects(commits: [ObjectID], models: Set<ModelName>? = nil, remote: String, git: GitCLI) throws -> LFSMovement {
        let pointers = try lfsPointers(inCommits: commits, models: models)
        let store = tensors.lfsObjects.store
        let missing = pointers.filter { !store.contains($0) }
        PhaseTrace.mark("pull: \(missing.count) of \(pointers.count) LFS objects to download")
        guard !missing.isEmpty else { return LFSMovement(present: pointers.count) }
        let (transfer, endpoint) = try lfsTransfer(remote: remote, git: git)
        let received = try transfer.download(
            missing, into: store, progress: progress.map { report in { report($0, $1, "downloading tensors") } })
        return LFSMovement(
            objects: received.objects, bytes: received.bytes, present: pointers.count - missing.count, endpoint: endpoint.description)
    }

    /// The commits whose tensors a pull or clone brings by default: HEAD (the versions
    /// checked out) and every stage's holder.
    func defaultLFSCommits() throws -> [ObjectID] {
        var commits = try repository.head().target.map { [$0] } ?? []
        for summary in try models() {
            guard let model = try? ModelName(summary.name) else { continue }
            commits += try state(of: model).holders.values.map(\.commit)
        }
        return commits
    }
}

/// Fetches missing LFS objects from the current branch's remote when a command reads a
/// tensor this clone does not have (a tensor-less clone reading an old version).
final class RemoteLFSFetcher: LFSFetcher {
    private weak var registry: Registry?

    init(_ registry: Registry) {
        self.registry = registry
    }

    func fetch(_ pointers: [LFSPointer], into store: LFSObjectStore) throws {
        guard let registry, let workdir = registry.repository.workingDirectory else { return }
        let git = GitCLI(directory: workdir)
        // A detached HEAD (a version checked out with git) has no upstream: the only remote,
        // else origin.
        let branch = try registry.repository.head().branchName ?? ""
        guard let remote = try? registry.defaultRemote(branch: branch, git: git) else { return }
        let (transfer, _) = try registry.lfsTransfer(remote: remote, git: git)
        _ = try transfer.download(
            pointers, into: store, progress: registry.progress.map { report in { report($0, $1, "downloading tensors") } })
    }
}
