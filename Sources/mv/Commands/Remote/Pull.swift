import ArgumentParser
import Foundation
import Registry

struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Fetch a remote's branch and tags; unpushed versions move to the next free numbers.",
        discussion: """
            A branch behind the remote moves forward. Unpushed commits of mv's own (versions,
            evaluations, monitoring runs, stage moves) are written again on top of the remote's
            history; each unpushed version takes the next free number of its model, and its
            stage, evaluation and monitoring tags follow. Nothing that was pushed is rewritten.
            Unpushed commits that touch other files are left to git (git pull --rebase).
            With LFS storage only the LFS objects of the checked-out versions, the stage
            holders and the versions named come down.
            """)

    @Argument(
        help: ArgumentHelp(
            "The remote (default: the branch's upstream, else origin), then versions whose LFS objects to bring besides the checked-out ones and the stage holders: churn@v3, churn#staging.",
            valueName: "remote|version"))
    var arguments: [String] = []

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let (registry, line) = try options.openWithProgress()
        let (remote, versions) = try registry.pullArguments(arguments)
        let outcome = try registry.pull(from: remote, versions: versions)
        line.finish()
        switch outcome.movement {
        case .upToDate: print("'\(outcome.branch)' has everything '\(outcome.remote)' has")
        case .fastForward: print("'\(outcome.branch)' moved forward to '\(outcome.remote)'")
        case .replayed(let count):
            print("\(count) unpushed commit\(count == 1 ? "" : "s") written again on top of '\(outcome.remote)'")
        }
        for (old, new) in outcome.renamed { print("  \(old) is now \(new)") }
        if !outcome.received.isEmpty {
            print("\(outcome.received.count) tag\(outcome.received.count == 1 ? "" : "s") received from '\(outcome.remote)'")
        }
        if outcome.lfs.objects > 0 || outcome.lfs.present > 0 { print(LFSSummary(outcome.lfs, direction: .down).text, terminator: "") }
        if let problem = outcome.lfsProblem {
            Terminal.notice("some tensor objects did not come: \(problem); commands fetch them when they read them, or run 'mv pull' again")
        }
    }
}
