import Foundation
import Git
import ModelFormat
import SystemIO

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
    }

    /// The diff driver that renders tensors as text in `git diff`, `git log -p`, `git show`.
    public static let diffDriverName = "mv-npy"
    static let attributesLine = "*.npy diff=\(diffDriverName)"

    /// Creates the repository if needed, commits `.mv.yaml` and the `.gitattributes` line
    /// for tensor diffs, and points git's `diff.mv-npy.textconv` at `textconvCommand`.
    /// Running it again changes nothing, except to refresh the local git config (which a
    /// fresh clone lacks).
    public static func initialize(
        at path: String, textconvCommand: String? = nil, notice: ((String) -> Void)? = nil
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
        let config = try existingText.map(RegistryConfig.parse) ?? RegistryConfig()
        let registry = Registry(repository: repository, config: config)
        registry.notice = notice
        let headTree = try repository.head().target.map { try repository.tree(repository.commit($0).treeID) }

        var contents: [(path: String, text: String)] = []
        if try headTree?.entry(atPath: RegistryConfig.fileName) == nil {
            contents.append((RegistryConfig.fileName, existingText ?? config.yaml()))
        }
        let committedAttributes = try headTree?.entry(atPath: ".gitattributes").map {
            String(decoding: try repository.objects.readBlob($0.id), as: UTF8.self)
        }
        if !(committedAttributes ?? "").split(separator: "\n").contains(where: { $0.trimmingCharacters(in: .whitespaces) == attributesLine }
        ) {
            if !(try repository.status(under: ".gitattributes")).isEmpty {
                throw MVError(
                    "'.gitattributes' has uncommitted changes; mv init adds a line to it",
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
        if let textconvCommand {
            try repository.setConfigString("diff.\(diffDriverName).textconv", textconvCommand)
            outcome.diffDriver = textconvCommand
        }
        // A fresh clone has chunk files where numpy wants the assembled .npy.
        outcome.reassembled = try registry.reassembleWorkTree()
        return (registry, outcome)
    }
}
