import Foundation
import Git
import SystemIO
import TensorStore

/// `mv status`: what mv put right after an interrupted run, and what still needs the user,
/// each with the command to type.
public struct RepositoryStatus: Sendable {
    /// What this run found and did (an interrupted update finished, leftovers removed).
    public var recoveredNow: [String] = []
    /// Earlier recoveries, newest last (`.git/mv/recovered`), at most ten.
    public var earlier: [String] = []
    /// Problems only the user can settle.
    public var needsUser: [Problem] = []
    /// Model folders and whether they match their last commit.
    public var models: [Model] = []

    public struct Problem: Sendable {
        public let problem: String
        public let command: String
    }

    public struct Model: Sendable {
        public let folder: String
        public let latest: String?
        /// Paths that differ from HEAD (staged, changed or untracked), assembled files included.
        public let changes: [String]
        /// The version `mv checkout` put in the folder, when that is all that differs.
        public let checkedOut: String?
    }

    public var isClean: Bool { needsUser.isEmpty }
}

extension Registry {
    /// Takes the writers' lock (which recovers what an interrupted mv left) and reports.
    public func status() throws -> RepositoryStatus {
        var report = RepositoryStatus()
        let forward = notice
        notice = { note in
            report.recoveredNow.append(note)
            forward?(note)
        }
        defer { notice = forward }
        do {
            let lock = try lockForWriting()
            withExtendedLifetime(lock) {}
        } catch let error as MVError where error.message.hasPrefix("'\(IndexLock.url(repository).path)'") {
            report.needsUser.append(
                .init(problem: error.message, command: "rm '\(IndexLock.url(repository).path)'   # only when no git command is running"))
        }
        report.earlier = Array(AppendedLines.read(state.recoveryLog).suffix(10).map(String.init).dropLast(report.recoveredNow.count))
        if WorkTreeJournal.exists(state) {
            report.needsUser.append(
                .init(problem: "an interrupted mv update could not be finished yet", command: "mv status   # again, once the index is free")
            )
        }
        guard let workdir = repository.workingDirectory else { return report }
        let assembled = AssembledFiles(state)
        for summary in try models() {
            guard let model = try? ModelName(summary.name) else { continue }
            let folder = folder(of: model)
            let entries = try changes(under: folder)
            let changes = entries.map(\.path) + assembled.changedFiles(under: folder + "/", workdir: workdir)
            let checkedOut = changes.count == entries.count ? try checkedOutVersion(model, changes: entries) : nil
            report.models.append(
                .init(
                    folder: folder, latest: summary.latest.map { "\(model)@\($0.version)" }, changes: changes,
                    checkedOut: checkedOut.map { "\(model)@\($0)" }))
            guard !changes.isEmpty, checkedOut == nil else { continue }
            let discard = summary.latest.map { "mv checkout \(model)@\($0.version) --force" } ?? "git checkout -- \(folder)"
            report.needsUser.append(
                .init(
                    problem: "'\(folder)' has changes that are not in a version (\(changes.count) path(s), e.g. '\(changes[0])')",
                    command: "git status -- \(folder)   # keep them: commit or register them; drop them: \(discard)"))
        }
        return report
    }
}
