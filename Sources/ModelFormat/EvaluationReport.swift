import Foundation

/// `eval/<name>.yaml`: the metrics of one version on one dataset, with the dataset's
/// fingerprint. Metrics come first and are plain numbers, so `dvc metrics diff` reads it.
public struct EvaluationReport: Sendable, Equatable {
    public var metrics: [(name: String, value: Double)]
    public var model: String
    public var version: String
    public var dataset: Manifest.DataFile
    /// How the rows were chosen from the file, e.g. the held-out split of training.
    public var selection: String?
    public var evaluatedAt: String
    /// Classification: counts of (true class, predicted class), rows in `classes` order.
    public var confusion: (classes: [String], counts: [[Int]])?

    public init(
        metrics: [(name: String, value: Double)], model: String, version: String,
        dataset: Manifest.DataFile, selection: String?, evaluatedAt: String
    ) {
        self.metrics = metrics
        self.model = model
        self.version = version
        self.dataset = dataset
        self.selection = selection
        self.evaluatedAt = evaluatedAt
    }

    public static func == (lhs: EvaluationReport, rhs: EvaluationReport) -> Bool {
        lhs.metrics.map(\.name) == rhs.metrics.map(\.name) && lhs.metrics.map(\.value) == rhs.metrics.map(\.value)
            && lhs.model == rhs.model && lhs.version == rhs.version && lhs.dataset == rhs.dataset
            && lhs.selection == rhs.selection && lhs.evaluatedAt == rhs.evaluatedAt
            && lhs.confusion?.classes == rhs.confusion?.classes && lhs.confusion?.counts == rhs.confusion?.counts
    }

    public func yaml() -> String {
        var dataset: [(String, YAMLValue)] = [("path", .string(self.dataset.path)), ("sha256", .string(self.dataset.sha256))]
        if let rows = self.dataset.rows { dataset.append(("rows", .int(rows))) }
        if let selection { dataset.append(("selection", .string(selection))) }
        var root: [(String, YAMLValue)] = [
            ("metrics", .map(metrics.map { ($0.name, .double($0.value)) })),
            ("model", .string(model)),
            ("version", .string(version)),
            ("dataset", .map(dataset)),
            ("evaluated_at", .string(evaluatedAt)),
        ]
        if let confusion {
            // Rows: the true class; columns: the predicted class, both in `classes` order.
            root.append(
                (
                    "confusion_matrix",
                    .map([
                        ("classes", .list(confusion.classes.map(YAMLValue.string))),
                        ("counts", .list(confusion.counts.map { .list($0.map(YAMLValue.int)) })),
                    ])
                ))
        }
        return YAMLValue.map(root).yamlDocument()
    }

    public static func parse(_ text: String, source: String) throws -> EvaluationReport {
        let root = try YAMLValue.parse(text, source: source)
        let fields = FieldReader(value: root, file: source, path: "")
        guard case .map(let pairs)? = root["metrics"] else { throw ModelFormatError.missingField(file: source, field: "metrics") }
        let metrics = try pairs.map { name, value in
            guard let number = value.doubleValue else {
                throw ModelFormatError.invalidField(file: source, field: "metrics.\(name)", problem: "must be a number")
            }
            return (name: name, value: number)
        }
        let dataset = try fields.child("dataset")
        var confusion: (classes: [String], counts: [[Int]])?
        if let matrix = root["confusion_matrix"], case .list(let classes)? = matrix["classes"], case .list(let rows)? = matrix["counts"] {
            confusion = (
                classes.compactMap(\.stringValue),
                rows.map { row in
                    if case .list(let cells) = row { return cells.compactMap(\.intValue) }
                    return []
                }
            )
        }
        var report = EvaluationReport(
            metrics: metrics, model: try fields.string("model"), version: try fields.string("version"),
            dataset: Manifest.DataFile(
                path: try dataset.string("path"), role: "evaluation", sha256: try dataset.string("sha256"),
                rows: try dataset.optionalInt("rows")),
            selection: try dataset.optionalString("selection"), evaluatedAt: try fields.string("evaluated_at"))
        report.confusion = confusion
        return report
    }
}
