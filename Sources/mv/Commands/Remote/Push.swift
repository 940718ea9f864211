import ArgumentParser
import Foundation
import Registry

struct Push: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push the branch and the registry's tags to a remote, refusing numbers another clone took.",
        discussion: """
            Runs 'git push --atomic' (your credentials and hooks, the pre-push gate included) with
            the current branch and every version, stage, evaluation and monitoring tag the
            remote lacks. Stops before sending anything when the remote holds one of these tag
            names for another commit, or has commits this clone lacks: run 'mv pull' first.
            With LFS storage the new versions' LFS objects go up first (docs/REMOTES.md), and
            if one cannot, no ref moves.
            """)

    @Argument(help: "The remote (default: the branch's upstream, else origin).")
    var remote: String?

    @Argument(help: "Models to push (checked to exist; the branch carries every model's versions, so all their tags go too).")
    var models: [String] = []

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let (registry, line) = try options.openWithProgress()
        let outcome = try registry.push(to: remote, models: models)
        line.finish()
        if outcome.lfs.objects > 0 || outcome.lfs.present > 0 { print(LFSSummary(outcome.lfs, direction: .up).text, terminator: "") }
        if !outcome.branchMoved && outcome.tags.isEmpty {
            print("'\(outcome.remote)' already has everything on '\(outcome.branch)'")
            return
        }
        print("pushed '\(outcome.branch)' and \(outcome.tags.count) tag\(outcome.tags.count == 1 ? "" : "s") to '\(outcome.remote)'")
        for tag in outcome.tags { print("  \(tag)") }
    }
}
