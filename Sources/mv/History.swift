import ArgumentParser
import Foundation
import Registry

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show a model's event journal, newest first.",
        discussion: "Versions, evaluations, promotions, demotions, deprecations and rollbacks, read from tags.")

    @Argument(help: "Model name.")
    var model: String

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let entries = try options.open().history(of: model)
        if options.json {
            try Terminal.json(entries.map { entry -> [String: Any] in
                ["time": Terminal.isoDate(entry.time), "event": entry.event, "version": entry.version ?? NSNull(),
                 "stage": entry.stage ?? NSNull(), "tag": entry.tag, "commit": entry.commit,
                 "author": entry.author ?? NSNull(), "detail": entry.detail]
            })
            return
        }
        var rows = [["DATE", "EVENT", "VERSION", "STAGE", "TAG", "DETAIL"]]
        rows += entries.map { entry in
            [Terminal.date(entry.time), entry.event, entry.version ?? "-", entry.stage ?? "-", entry.tag, entry.detail]
        }
        print(Terminal.table(rows))
    }
}
