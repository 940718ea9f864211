import Foundation
import Git
import SystemIO
import TensorStore

/// The record of a work-tree update mv has started (`.git/mv/journal`): the commit it
/// published (nil for `mv checkout`, which moves no ref), the branch and tag refs it moves,
/// and every path it writes or removes with the blob the path gets and the blob it held.
/// Written before any ref moves and removed once the work tree and index match; a later mv
/// that takes the writers' lock and finds it finishes the update (`Registry.recover`).
///
/// Why: between moving the refs and writing the last file, a kill (or a full disk) used to
/// leave HEAD on the new version with the folder and index on the old one — and every later
/// mv refused the "uncommitted changes", whose hint (`git commit -am`) put the old folder
/// back on top of the new version.
struct WorkTreeJournal: Codable, Equatable {
    var pid: Int32
    var commit: String?
    var reference: String?
    /// The tag ref the update creates and its object, withdrawn if the branch never moved.
    var tag: String?
    var tagObject: String?
    /// The commit's first line, for messages.
    var summary: String
    var replacedFolders: [String]
    var files: [File]
    var assembled: [Assembled]
    /// Blob ids the index held for the paths the update touches, before it.
    var before: [String: String]
    /// Chunk ids of the assembled files before the update.
    var beforeAssembled: [String: [String]]

    struct File: Codable, Equatable {
        var path: String
        var blob: String
        var mode: UInt32
        var placement: StagedFile.Placement
    }

    struct Assembled: Codable, Equatable {
        var path: String
        var chunks: [String]
    }

    /// The record of `proposal` about to be applied, with what the index and the assembled
    /// files hold now.
    init(
        proposal: Proposal, commit: ObjectID?, reference: String?, tag: (ref: String, object: ObjectID)?, repository: Repository,
        state: StateFiles
    ) throws {
        pid = Processes.current
        self.commit = commit?.description
        self.reference = reference
        self.tag = tag?.ref
        tagObject = tag?.object.description
        summary = String(proposal.message.prefix { $0 != "\n" })
        replacedFolders = proposal.replacedFolders
        files = proposal.files.map { File(path: $0.path, blob: $0.blob.description, mode: $0.mode.rawValue, placement: $0.placement) }
        assembled = proposal.assembled.map { Assembled(path: $0.path, chunks: $0.chunks.map(\.description)) }
        before = [:]
        beforeAssembled = [:]
        guard repository.workingDirectory != nil else { return }
        let index = try repository.index()
        try index.reload()
        var paths = Set(proposal.files.map(\.path))
        for folder in proposal.replacedFolders { paths.formUnion(index.paths(under: folder + "/")) }
        for path in paths {
            if let entry = index.entry(atPath: path) { before[path] = entry.id.description }
        }
        let record = AssembledFiles(state)
        for folder in proposal.replacedFolders {
            for path in record.paths(under: folder + "/") { beforeAssembled[path] = record.chunks(of: path).map(\.description) }
        }
    }

    /// The proposal to apply again: every file from its blob (staged copies may be gone),
    /// assembled files from their chunks.
    var proposal: Proposal {
        var proposal = Proposal(
            files: files.compactMap { file in
                guard let blob = ObjectID(hex: file.blob), let mode = FileMode(rawValue: file.mode) else { return nil }
                var staged = StagedFile(path: file.path, blob: blob, mode: mode, source: nil)
                staged.placement = file.placement
                return staged
            },
            replacedFolders: replacedFolders, message: summary, tag: nil)
        proposal.assembled = assembled.map { AssembledFile(path: $0.path, chunks: $0.chunks.compactMap { ObjectID(hex: $0) }, source: nil) }
        return proposal
    }

    func write(_ state: StateFiles) throws {
        try FileManager.default.createDirectory(at: state.root, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(self).writeUnsynced(to: state.journal, atomically: true)
    }

    static func read(_ state: StateFiles) -> WorkTreeJournal? {
        guard let data = FileManager.default.contents(atPath: state.journal.path) else { return nil }
        return try? JSONDecoder().decode(WorkTreeJournal.self, from: data)
    }

    static func exists(_ state: StateFiles) -> Bool {
        FileManager.default.fileExists(atPath: state.journal.path)
    }

    static func remove(_ state: StateFiles) {
        FileSystem.remove(state.journal)
    }
}
