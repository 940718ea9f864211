// Registry: the domain. A model is a folder under `models_root` in an ordinary Git
// repository; its versions, evaluations and stage holders are tags GTO reads too. Registry
// resolves what users name (`churn@v3`, `churn#production`), trains and registers versions,
// evaluates them, checks metric gates, promotes, demotes, deprecates and rolls back, diffs
// two versions and answers queries — each operation a commit and tag written through
// `HistoryWriter.publish`, the one place that moves refs. Tensor bytes go through the
// `TensorStore` protocol, never straight to packs or files; below the CLI it prints nothing
// (progress goes to a callback) and parses no command lines.
//   Versions/   naming, resolving, reading, registering (`mv add`), checkout, export, verify
//   Lifecycle/  stages and their tags, evaluations, the event journal, rollback
//   Gates/      metric policy, its evaluation, git hooks
//   Diff/       what changed between two versions
//   Training/   built-in trainers, the user's own command, prediction, scoring
//   History/    commits, tags, ref updates, hooks around them, the work tree afterwards
//   Repository/ configuration, `mv init`, names, errors

import Foundation
import Git
import ModelFormat
import SystemIO
import TensorStore

/// mv's view of one Git repository: its configuration, where model folders live, the store
/// its tensors go through and the writer every lifecycle operation commits through.
public final class Registry {
    public static let mvVersion = "0.1.0"

    public let repository: Repository
    public let config: RegistryConfig
    /// mv's own files in the git directory.
    public let state: StateFiles
    /// Where tensor bytes are kept.
    public let tensors: any TensorStore
    var writer: HistoryWriter
    /// Updates the work tree after each commit.
    let workTree: WorkTreeSync
    /// Tag refs about to exist that the repository does not show yet: what a push brings,
    /// seen from a pre-push or pre-receive hook. Queries read them as if they had landed.
    var pendingTags: [(name: String, target: ObjectID)] = []
    /// Called with one line for each thing mv did that the user did not ask for: an
    /// interrupted update finished, leftovers removed, a warning (the CLI prints them on
    /// stderr as `mv: …`).
    public var notice: ((String) -> Void)?
    /// Called as long operations move bytes (done, total, what): the CLI draws a progress
    /// line on a terminal. Nothing below the CLI prints.
    public var progress: ((_ done: Int64, _ total: Int64, _ label: String) -> Void)?

    init(repository: Repository, config: RegistryConfig) {
        self.repository = repository
        self.config = config
        state = StateFiles(gitDirectory: repository.gitDirectory)
        tensors = PackTensorStore(repository: repository, storage: config.storage)
        writer = HistoryWriter(repository: repository, state: state)
        workTree = WorkTreeSync(repository: repository, state: state, tensors: tensors)
        // A tensor this clone lacks (LFS storage, a tensor-less clone) comes from the remote.
        tensors.lfsObjects.fetcher = RemoteLFSFetcher(self)
    }

    /// Starts the Git library's setup in the background; call first thing in a process.
    public static func prepareInBackground() {
        GitLibrary.prepareInBackground()
    }

    /// Call before the process exits (see `GitLibrary.waitForBackgroundSetup`).
    public static func finishBackgroundSetup() {
        GitLibrary.waitForBackgroundSetup()
    }

    /// Opens the repository containing `path` and reads its `.mv.yaml` (defaults when absent).
    public static func open(at path: String) throws -> Registry {
        let repository: Repository
        PhaseTrace.mark("open: start")
        do {
            repository = try Repository.discover(from: path)
            PhaseTrace.mark("open: repository")
        } catch let error as GitError where error.code == .notOwner || error.message.contains("safe.directory") {
            // libgit2 1.5 reports an untrusted owner as GIT_EOWNER, or (with no safe.directory
            // set at all) as the failed lookup of that setting.
            throw MVError(
                "the repository at '\(path)' belongs to another user, so git and mv do not trust it (\(error.message))",
                hint: "if you trust it: git config --global --add safe.directory \(URL(fileURLWithPath: path).standardizedFileURL.path)")
        } catch {
            throw MVError("not a git repository: '\(path)'", hint: "run 'mv init' to create one here, or cd into your repository")
        }
        let config = try readConfig(repository)
        PhaseTrace.mark("open: config")
        return Registry(repository: repository, config: config)
    }

    static func readConfig(_ repository: Repository) throws -> RegistryConfig {
        if let workdir = repository.workingDirectory {
            let url = workdir.appendingPathComponent(RegistryConfig.fileName)
            if let data = FileManager.default.contents(atPath: url.path) {
                return try RegistryConfig.parse(String(decoding: data, as: UTF8.self))
            }
            return RegistryConfig()
        }
        // A bare repository (a server) has no work tree: read the config committed on HEAD,
        // or, when HEAD is unborn (git init --bare names master, pushes bring main), on
        // main, master or the first branch.
        var commit = try repository.head().target
        if commit == nil {
            let branches = try repository.references(matching: "refs/heads/*")
            commit =
                (branches.first { $0.name == "refs/heads/main" } ?? branches.first { $0.name == "refs/heads/master" } ?? branches.first)?
                .target
        }
        return try commit.map { try readConfig(repository, at: $0) } ?? RegistryConfig()
    }

    /// The `.mv.yaml` committed in `commit` (defaults when it has none).
    static func readConfig(_ repository: Repository, at commit: ObjectID) throws -> RegistryConfig {
        guard let entry = try repository.tree(repository.commit(commit).treeID).entry(atPath: RegistryConfig.fileName) else {
            return RegistryConfig()
        }
        return try RegistryConfig.parse(String(decoding: try repository.objects.readBlob(entry.id), as: UTF8.self))
    }

    /// Tag refs matching `glob` with their targets, pending ones included (they win).
    func tagRefs(matching glob: String) throws -> [(name: String, target: ObjectID)] {
        let pending = pendingTags.filter { fnmatch(glob, $0.name, 0) == 0 }
        let pendingNames = Set(pending.map(\.name))
        return (try repository.references(matching: glob).filter { !pendingNames.contains($0.name) } + pending)
            .sorted { $0.name < $1.name }
    }

    /// The repository-relative folder of a model, e.g. `models/churn`.
    public func folder(of model: ModelName) -> String { "\(config.modelsRoot)/\(model)" }

    public var workingDirectory: URL? { repository.workingDirectory }

    /// Refuses when the model folder has staged, unstaged or untracked changes, which a new
    /// version would overwrite.
    /// Call under the writers' lock: mv's own temporary files are removed first (one there
    /// now is an interrupted mv's). A bare repository has no work tree to be unclean.
    func ensureClean(_ model: ModelName, action: String = "a new version would overwrite them") throws {
        guard repository.workingDirectory != nil else { return }
        removeTemporaryFiles(under: folder(of: model))
        var changes = try changes(under: folder(of: model)).map(\.path)
        if let workdir = repository.workingDirectory {
            // Assembled tensor files are ignored by Git; mv checks them against what it wrote.
            changes += AssembledFiles(state).changedFiles(under: folder(of: model) + "/", workdir: workdir)
        }
        guard let first = changes.first else { return }
        let more = changes.count > 1 ? " and \(changes.count - 1) more" : ""
        throw MVError(
            "'\(folder(of: model))' has uncommitted changes ('\(first)'\(more)); \(action)",
            hint: "commit or stash them, or pass --force to overwrite tracked files (untracked ones are left alone)")
    }

    /// The early check before training: taken under the writers' lock so another mv's
    /// half-finished work-tree sync is never mistaken for the user's changes.
    func ensureCleanBeforeWork(_ model: ModelName) throws {
        let lock = try lockForWriting()
        defer { withExtendedLifetime(lock) {} }
        try ensureClean(model)
    }

    /// A folder under `.git/mv/staging/` for files being prepared; removed by the caller.
    func makeStagingFolder() throws -> URL {
        do {
            return try state.makeStagingFolder()
        } catch let error as CocoaError where error.code == .fileWriteNoPermission || error.code == .fileWriteVolumeReadOnly {
            throw readOnly(reason: error.code == .fileWriteVolumeReadOnly ? "Read-only file system" : "Permission denied")
        }
    }
}
