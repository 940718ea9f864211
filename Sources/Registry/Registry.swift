import Foundation
import Git
import ModelFormat

/// mv's view of one Git repository: its configuration, where model folders live, and the
/// writer every lifecycle operation commits through.
public final class Registry {
    public static let mvVersion = "0.1.0"

    public let repository: Repository
    public let config: RegistryConfig
    var writer: HistoryWriter
    /// Tag refs about to exist that the repository does not show yet: what a push brings,
    /// seen from a pre-push or pre-receive hook. Queries read them as if they had landed.
    var pendingTags: [(name: String, target: ObjectID)] = []
    /// Called as long operations move bytes (done, total, what): the CLI draws a progress
    /// line on a terminal. Nothing below the CLI prints.
    public var progress: ((_ done: Int64, _ total: Int64, _ label: String) -> Void)?

    init(repository: Repository, config: RegistryConfig) {
        self.repository = repository
        self.config = config
        self.writer = HistoryWriter(repository: repository)
    }

    /// Opens the repository containing `path` and reads its `.mv.yaml` (defaults when absent).
    /// Starts the Git library's setup in the background; call first thing in a process.
    public static func prepareInBackground() {
        GitLibrary.prepareInBackground()
    }

    /// Call before the process exits (see `GitLibrary.waitForBackgroundSetup`).
    public static func finishBackgroundSetup() {
        GitLibrary.waitForBackgroundSetup()
    }

    public static func open(at path: String) throws -> Registry {
        let repository: Repository
        PhaseTrace.mark("open: start")
        do {
            repository = try Repository.discover(from: path)
            PhaseTrace.mark("open: repository")
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
            commit = (branches.first { $0.name == "refs/heads/main" } ?? branches.first { $0.name == "refs/heads/master" } ?? branches.first)?.target
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
    func ensureClean(_ model: ModelName, action: String = "a new version would overwrite them") throws {
        var changes = try repository.status(under: folder(of: model)).map(\.path)
        if let workdir = repository.workingDirectory {
            // Assembled tensor files are ignored by Git; mv checks them against what it wrote.
            changes += AssembledFiles(gitDirectory: repository.gitDirectory).changedFiles(under: folder(of: model) + "/", workdir: workdir)
        }
        guard let first = changes.first else { return }
        let more = changes.count > 1 ? " and \(changes.count - 1) more" : ""
        throw MVError("'\(folder(of: model))' has uncommitted changes ('\(first)'\(more)); \(action)",
                      hint: "commit or stash them, or pass --force to overwrite tracked files (untracked ones are left alone)")
    }

    /// The early check before training: taken under the writers' lock so another mv's
    /// half-finished work-tree sync is never mistaken for the user's changes.
    func ensureCleanBeforeWork(_ model: ModelName) throws {
        let lock = try writer.lock()
        defer { withExtendedLifetime(lock) {} }
        try ensureClean(model)
    }

    /// A folder under `.git/mv/` for files being prepared; removed by the caller.
    func makeStagingFolder() throws -> URL {
        let url = repository.gitDirectory.appendingPathComponent("mv/staging/\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    // MARK: init

    /// What `mv init` did.
    public struct InitOutcome: Sendable, Equatable {
        /// Chunked tensors whose work-tree .npy was (re)built.
        public var reassembled: [String] = []
        /// A repository was created.
        public var createdRepository = false
        /// The commit that added `.mv.yaml` and/or the `.gitattributes` line, if any.
        public var commit: String?
        public var committedFiles: [String] = []
        /// The textconv command now configured for `*.npy`, if one was given.
        public var diffDriver: String?
    }

    /// The diff driver that renders tensors as text in `git diff`, `git log -p`, `git show`.
    public static let diffDriverName = "mv-npy"
    static let attributesLine = "*.npy diff=\(diffDriverName)"

    /// Creates the repository if needed, commits `.mv.yaml` and the `.gitattributes` line
    /// for tensor diffs, and points git's `diff.mv-npy.textconv` at `textconvCommand`.
    /// Running it again changes nothing, except to refresh the local git config (which a
    /// fresh clone lacks).
    public static func initialize(at path: String, textconvCommand: String? = nil) throws -> (Registry, InitOutcome) {
        var outcome = InitOutcome()
        let repository: Repository
        if let existing = try? Repository.discover(from: path) {
            repository = existing
        } else {
            repository = try Repository.create(at: path)
            outcome.createdRepository = true
        }
        guard let workdir = repository.workingDirectory else {
            throw MVError("'\(path)' is a bare repository; run 'mv init' in a clone with a work tree")
        }
        let configURL = workdir.appendingPathComponent(RegistryConfig.fileName)
        let existingText = FileManager.default.contents(atPath: configURL.path).map { String(decoding: $0, as: UTF8.self) }
        let config = try existingText.map(RegistryConfig.parse) ?? RegistryConfig()
        let registry = Registry(repository: repository, config: config)
        let headTree = try repository.head().target.map { try repository.tree(repository.commit($0).treeID) }

        var contents: [(path: String, text: String)] = []
        if try headTree?.entry(atPath: RegistryConfig.fileName) == nil {
            contents.append((RegistryConfig.fileName, existingText ?? config.yaml()))
        }
        let committedAttributes = try headTree?.entry(atPath: ".gitattributes").map {
            String(decoding: try repository.objects.readBlob($0.id), as: UTF8.self)
        }
        if !(committedAttributes ?? "").split(separator: "\n").contains(where: { $0.trimmingCharacters(in: .whitespaces) == attributesLine }) {
            if !(try repository.status(under: ".gitattributes")).isEmpty {
                throw MVError("'.gitattributes' has uncommitted changes; mv init adds a line to it",
                              hint: "commit or stash your change to .gitattributes, then run 'mv init' again")
            }
            var text = committedAttributes ?? ""
            if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
            text += "# tensors render as text in git diff/log -p/show (run 'mv init' in a clone to enable)\n\(attributesLine)\n"
            contents.append((".gitattributes", text))
        }

        if !contents.isEmpty {
            let staging = try registry.makeStagingFolder()
            defer { try? FileManager.default.removeItem(at: staging) }
            let files = try contents.map { item -> StagedFile in
                let source = staging.appendingPathComponent(UUID().uuidString)
                try Data(item.text.utf8).writeUnsynced(to: source)
                return StagedFile(path: item.path, blob: try repository.objects.writeBlob(fileAt: source), source: source)
            }
            let listing = contents.map(\.path).joined(separator: " and ")
            let proposal = Proposal(files: files, replacedFolders: [],
                                    message: "mv: track models in this repository\n\nAdds \(listing) (models under \(config.modelsRoot)/).\n",
                                    tag: nil)
            let signature = try repository.defaultSignature()
            let lock = try registry.writer.lock()
            let published = try registry.writer.publish(signature: signature, reflogPrefix: "mv init") { _ in proposal }
            try registry.writer.syncWorkTree(published.proposal)
            withExtendedLifetime(lock) {}
            outcome.commit = published.commit.description
            outcome.committedFiles = contents.map(\.path)
        }
        if let textconvCommand {
            try repository.setConfigString("diff.\(diffDriverName).textconv", textconvCommand)
            outcome.diffDriver = textconvCommand
        }
        // A fresh clone has chunk files where numpy wants the assembled .npy.
        outcome.reassembled = try registry.reassembleWorkTree()
        return (registry, outcome)
    }
}
