import ArgumentParser
import Foundation
import Registry

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List models and their latest versions.")

    @OptionGroup var options: RepositoryOptions

    func run() throws {
        let models = try options.open().models()
        if options.json {
            try Terminal.json(models.map { model -> [String: Any] in
                var object: [String: Any] = ["name": model.name, "versions": model.versionCount, "stages": model.stages,
                                             "deprecated": model.deprecated]
                if let latest = model.latest {
                    object["latest"] = ["version": latest.version.description, "tag": latest.tag, "commit": latest.commit,
                                        "date": Terminal.isoDate(latest.date), "metrics": Terminal.metricsObject(latest.metrics)]
                } else {
                    object["latest"] = NSNull()
                }
                return object
            })
            return
        }
        guard !models.isEmpty else {
            print("No models yet. Train one: mv train <model> --data train.csv --target y")
            return
        }
        var rows = [["MODEL", "LATEST", "VERSIONS", "STAGES", "DATE", "METRICS"]]
        rows += models.map { model in
            let stages = model.stages.keys.sorted().map { "\($0)=\(model.stages[$0] ?? "")" }.joined(separator: " ")
            return [model.name + (model.deprecated ? " (deprecated)" : ""), model.latest?.version.description ?? "-",
                    String(model.versionCount), stages.isEmpty ? "-" : stages,
                    Terminal.date(model.latest?.date), Terminal.metrics(model.latest?.metrics ?? [])]
        }
        print(Terminal.table(rows))
    }
}
