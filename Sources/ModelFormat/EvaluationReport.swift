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
    /// Regression: some of the evaluated rows, actual against predicted, for `mv report`.
    public var sample: Sample?
    /// Classification with probabilities: the ROC curve of each class (one for two classes).
    public var roc: [ROCCurve] = []

    /// At most `Sample.limit` evaluated rows, evenly spaced through them: enough for a
    /// picture of predicted against actual without the data. With one numeric feature, its
    /// (unstandardized) values too, so the picture can be the data and the fitted line.
    public struct Sample: Sendable, Equatable {
        public static let limit = 1000
        /// How many rows were evaluated in all.
        public var rows: Int
        public var feature: String?
        public var x: [Double]?
        public var actual: [Double]
        public var predicted: [Double]

        public init(rows: Int, feature: String? = nil, x: [Double]? = nil, actual: [Double], predicted: [Double]) {
            self.rows = rows
            self.feature = feature
            self.x = x
            self.actual = actual
            self.predicted = predicted
        }

        /// Indices of at most `limit` of `count` rows, evenly spaced, first row included.
        public static func indices(count: Int, limit: Int = Sample.limit) -> [Int] {
            guard count > limit else { return Array(0..<count) }
            return (0..<limit).map { $0 * count / limit }
        }
    }

    /// A ROC curve: false and true positive rates as the threshold falls, from (0, 0) to (1, 1).
    public struct ROCCurve: Sendable, Equatable {
        /// The positive class (the others are negatives).
        public var label: String
        public var auc: Double
        public var fpr: [Double]
        public var tpr: [Double]

        public init(label: String, auc: Double, fpr: [Double], tpr: [Double]) {
            self.label = label
            self.auc = auc
            self.fpr = fpr
            self.tpr = tpr
        }
    }

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
            && lhs.sample == rhs.sample && lhs.roc == rhs.roc
    }

    /// Six significant digits: plenty for a picture, and half the text of a full double.
    static func brief(_ value: Double) -> YAMLValue {
        .double(Double(String(format: "%.6g", value)) ?? value)
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
        if let sample {
            var fields: [(String, YAMLValue)] = [("rows", .int(sample.rows))]
            if let feature = sample.feature, let x = sample.x {
                fields += [("feature", .string(feature)), ("x", .list(x.map(Self.brief)))]
            }
            fields += [("actual", .list(sample.actual.map(Self.brief))), ("predicted", .list(sample.predicted.map(Self.brief)))]
            root.append(("sample", .map(fields)))
        }
        if !roc.isEmpty {
            root.append(
                (
                    "roc",
                    .list(
                        roc.map { curve in
                            .map([
                                ("class", .string(curve.label)), ("auc", .double(curve.auc)),
                                ("fpr", .list(curve.fpr.map(Self.brief))), ("tpr", .list(curve.tpr.map(Self.brief))),
                            ])
                        })
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
        if let fields = try fields.optionalChild("sample") {
            report.sample = try parseSample(fields)
        }
        report.roc = try fields.list("roc").map(parseCurve)
        return report
    }

    static func parseSample(_ fields: FieldReader) throws -> Sample {
        let actual = try fields.finiteNumbers("actual")
        let predicted = try fields.finiteNumbers("predicted")
        let x = try fields.optionalString("feature") == nil ? nil : try fields.finiteNumbers("x")
        let rows = try fields.int("rows")
        guard predicted.count == actual.count, x.map({ $0.count == actual.count }) ?? true else {
            throw ModelFormatError.invalidField(
                file: fields.file, field: fields.path, problem: "actual, predicted and x must have one value per sampled row")
        }
        guard actual.count <= Sample.limit, actual.count <= rows else {
            throw ModelFormatError.invalidField(
                file: fields.file, field: fields.path,
                problem: "holds \(actual.count) rows; at most \(Sample.limit) and no more than rows (\(rows))")
        }
        return Sample(rows: rows, feature: try fields.optionalString("feature"), x: x, actual: actual, predicted: predicted)
    }

    static func parseCurve(_ fields: FieldReader) throws -> ROCCurve {
        let fpr = try fields.finiteNumbers("fpr")
        let tpr = try fields.finiteNumbers("tpr")
        guard fpr.count == tpr.count, fpr.count >= 2, (fpr + tpr).allSatisfy({ (0...1).contains($0) }) else {
            throw ModelFormatError.invalidField(
                file: fields.file, field: fields.path, problem: "fpr and tpr must be two equally long lists of rates between 0 and 1")
        }
        return ROCCurve(label: try fields.string("class"), auc: try fields.double("auc"), fpr: fpr, tpr: tpr)
    }
}
