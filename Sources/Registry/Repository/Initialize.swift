import Foundation
import Git
import ModelFormat
import SystemIO
import TensorStore

extension Registry {
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
        /// Where new tensors' bytes go now.
        public var storage: TensorStorage = .git
    }

    /// The diff driver that renders tensors as text in `git diff`, `git log -p`, `git show`.
    public static let diffDriverName = "mv-npy"
    static let attributesLine = "*.npy diff=\(diffDriverName)"

    /// The `.gitattributes` line of LFS storage: tensors and chunks are LFS files for git-lfs
    /// and Git hosts. `diff` stays mv's (from the line above): its textconv reads a pointer's
    /// object from the LFS store, and where mv is not set up git shows the pointer's text,
    /// as git-lfs's own `diff=lfs` would.
    static func lfsAttributesLines(_ config: RegistryConfig) -> [String] {
        // The tensors and the chunks of big ones; not the folder's .gitignore.
        ["\(config.modelsRoot)/*/params/**/*.npy", "\(config.modelsRoot)/*/params/**/*.npy.chunks/*"].map {
            "\($0) filter=lfs merge=lfs -text"
        }
    }

    /// Creates the repository if needed, commits `.mv.yaml` and the `.gitattributes` line
    /// for tensor diffs, and points git's `diff.mv-npy.textconv` at `textconvCommand`.
    /// Running it again changes nothing, except to refresh the local git config (which a
    /// fresh clone lacks).
    ///
    /// `storage` switches where new tensors' bytes go: `.mv.yaml` gets the setting and
    /// `.gitattributes` the LFS line (or loses it), in one commit. Versions already written
    /// stay as they are and stay readable.
    public static func initialize(
        at path: String, textconvCommand: String? = nil, storage: TensorStorage? = nil, notice: ((String) -> Void)? = nil
    ) throws -> (Registry, InitOutcome) {
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
        var config = try existingText.map(RegistryConfig.parse) ?? RegistryConfig()
        let headTree = try repository.head().target.map { try repository.tree(repository.commit($0).treeID) }

        var contents: [(path: String, text: String)] = []
        let configCommitted = try headTree?.entry(atPath: RegistryConfig.fileName) != nil
        if let storage, storage != config.storage {
            if configCommitted, !(try repository.status(under: RegistryConfig.fileName)).isEmpty {
                throw MVError(
                    "'\(RegistryConfig.fileName)' has uncommitted changes; mv init --storage changes it",
                    hint: "commit or stash your change to \(RegistryConfig.fileName), then run 'mv init --storage \(storage)' again")
            }
            config.storage = storage
            contents.append((RegistryConfig.fileName, existingText.map { Self.settingStorage(storage, in: $0) } ?? config.yaml()))
        } else if !configCommitted {
            contents.append((RegistryConfig.fileName, existingText ?? config.yaml()))
        }
        let registry = Registry(repository: repository, config: config)
        registry.notice = notice
        outcome.storage = config.storage

        let committedAttributes = try headTree?.entry(atPath: ".gitattributes").map {
            String(decoding: try repository.objects.readBlob($0.id), as: UTF8.self)
        }
        let attributes = Self.attributes(committedAttributes ?? "", config: config)
        if attributes != (committedAttributes ?? "") {
            if !(try repository.status(under: ".gitattributes")).isEmpty {
                throw MVError(
                    "'.gitattributes' has uncommitted changes; mv init changes it",
                    hint: "commit or stash your change to .gitattributes, then run 'mv init' again")
            }
            contents.append((".gitattributes", attributes))
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
            let proposal = Proposal(
                files: files, replacedFolders: [],
                message: "mv: track models in this repository\n\nAdds \(listing) (models under \(config.modelsRoot)/).\n",
                tag: nil)
            let signature = try repository.defaultSignature()
            let lock = try registry.lockForWriting()
            let published = try registry.writer.publish(signature: signature, reflogPrefix: "mv init") { _ in proposal }
            try registry.workTree.sync(published.proposal)
            withExtendedLifetime(lock) {}
            outcome.commit = published.commit.description
            outcome.committedFiles = contents.map(\.path)
        }
        if config.storage == .lfs { try registry.configureLFS() }
        if let textconvCommand {
            try repository.setConfigString("diff.\(diffDriverName).textconv", textconvCommand)
            outcome.diffDriver = textconvCommand
        }
        // A fresh clone has chunk files where numpy wants the assembled .npy.
        outcome.reassembled = try registry.reassembleWorkTree()
        return (registry, outcome)
    }

    /// `.gitattributes` with mv's lines as `config` needs them: the tensor diff line always,
    /// the LFS line exactly when storage is LFS. Other lines are kept as they are.
    static func attributes(_ text: String, config: RegistryConfig) -> String {
        let lfsLines = lfsAttributesLines(config)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        let trimmed = lines.map { $0.trimmingCharacters(in: .whitespaces) }
        if !trimmed.contains(attributesLine) {
            lines += ["# tensors render as text in git diff/log -p/show (run 'mv init' in a clone to enable)", attributesLine]
        }
        let lfsComment = "# tensor bytes are Git LFS objects (storage: lfs in .mv.yaml)"
        if config.storage == .lfs, !lfsLines.allSatisfy(trimmed.contains) {
            lines.removeAll { lfsLines.contains($0.trimmingCharacters(in: .whitespaces)) }
            lines += [lfsComment] + lfsLines
        } else if config.storage == .git {
            lines.removeAll {
                let line = $0.trimmingCharacters(in: .whitespaces)
                return lfsLines.contains(line) || line == lfsComment
            }
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    /// `.mv.yaml`'s text with its `storage:` setting replaced (or added), the rest kept.
    static func settingStorage(_ storage: TensorStorage, in text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        let setting = "storage: \(storage.rawValue)"
        if let index = lines.firstIndex(where: { $0.hasPrefix("storage:") }) {
            lines[index] = setting
        } else {
            lines.append(setting)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
