import ArgumentParser
import Foundation
import Registry

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "Show a model's versions, newest first.")

    @Argument(help: "Model name.")
    var model: String

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let versions = try options.open().versions(of: model)
        if options.json {
            try Terminal.json(versions.map { record -> [String: Any] in
                ["version": record.version.description, "tag": record.tag, "commit": record.commit,
                 "date": Terminal.isoDate(record.date), "author": record.author ?? NSNull(),
                 "metrics": Terminal.metricsObject(record.metrics)]
            })
            return
        }
        var rows = [["VERSION", "DATE", "COMMIT", "AUTHOR", "METRICS"]]
        rows += versions.map { record in
            [record.version.description, Terminal.date(record.date), String(record.commit.prefix(8)), record.author ?? "-",
             Terminal.metrics(record.metrics)]
        }
        print(Terminal.table(rows))
    }
}
