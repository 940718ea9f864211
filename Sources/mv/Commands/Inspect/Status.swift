import ArgumentParser
import Registry

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what mv put right after an interrupted run, and what still needs you.",
        discussion: """
            Finishes a work-tree update a killed mv left (as any mv that writes does first), removes \
            its temporary files, then lists each model folder and anything only you can settle, with \
            the command to type. Exits 1 when something needs you.
            """)

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let report = try options.open().status()
        try options.output.emit(report)
        if !report.isClean { throw ExitCode(1) }
    }
}
