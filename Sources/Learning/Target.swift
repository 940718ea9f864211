import Foundation

/// The target column of a model: its name, task and, for classification, the class labels.
///
/// Classes are sorted as numpy's `np.unique` sorts them (numerically when every label is a
/// number, else by text), and a label is encoded as its index in `classes`, so models store
/// and predict class indices and scores line up with scikit-learn's.
public struct TargetSchema: Sendable, Codable, Equatable {
    public let name: String
    public let task: Task
    /// Sorted class labels; empty for regression.
    public let classes: [String]

    public init(name: String, task: Task, classes: [String] = []) {
        self.name = name
        self.task = task
        self.classes = classes
    }

    /// Builds the schema from the target column of `table`: regression targets must be
    /// numbers, classification targets may be any text or numbers.
    public static func infer(_ table: CSVTable, target: String, task: Task, source: String) throws -> TargetSchema {
        guard let index = table.columnIndex(target) else {
            throw LearningError.missingTargetColumn(source: source, target: target, columns: table.header)
        }
        switch task {
        case .regression:
            return TargetSchema(name: target, task: .regression)
        case .classification:
            var labels = Set<String>()
            for (rowIndex, row) in table.rows.enumerated() {
                let text = row[index].trimmingCharacters(in: .whitespaces)
                if Missing.isMissing(text) {
                    throw LearningError.missingValue(row: line(table, rowIndex), column: target)
                }
                labels.insert(canonicalLabel(text))
            }
            return TargetSchema(name: target, task: .classification, classes: sortedLabels(labels))
        }
    }

    /// The target column encoded: numbers for regression, class indices for classification.
    /// A class outside `classes` is an error naming the row, as evaluation data may hold one.
    public func encode(_ table: CSVTable, source: String) throws -> [Double] {
        guard let index = table.columnIndex(name) else {
            throw LearningError.missingTargetColumn(source: source, target: name, columns: table.header)
        }
        var out: [Double] = []
        out.reserveCapacity(table.rows.count)
        switch task {
        case .regression:
            for (rowIndex, row) in table.rows.enumerated() {
                let text = row[index].trimmingCharacters(in: .whitespaces)
                let rowNumber = Self.line(table, rowIndex)
                if Missing.isMissing(text) {
                    throw LearningError.missingValue(row: rowNumber, column: name)
                }
                guard let value = Number.parse(text) else {
                    throw LearningError.nonNumericRegressionTarget(row: rowNumber, column: name, value: row[index])
                }
                guard value.isFinite else {
                    throw LearningError.nonFiniteValue(row: rowNumber, column: name, value: row[index])
                }
                out.append(value)
            }
        case .classification:
            // A dictionary lookup per row keeps encoding linear in the number of rows.
            let lookup = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($0.element, Double($0.offset)) })
            for (rowIndex, row) in table.rows.enumerated() {
                let text = row[index].trimmingCharacters(in: .whitespaces)
                if Missing.isMissing(text) {
                    throw LearningError.missingValue(row: Self.line(table, rowIndex), column: name)
                }
                guard let code = lookup[Self.canonicalLabel(text)] else {
                    throw LearningError.unseenClass(row: Self.line(table, rowIndex), column: name, value: text, known: classes)
                }
                out.append(code)
            }
        }
        return out
    }

    /// The label text of a predicted class index, or the number itself for regression.
    public func label(of prediction: Double) -> String {
        guard task == .classification else {
            return "\(prediction)"
        }
        let k = Int(prediction)
        return Double(k) == prediction && classes.indices.contains(k) ? classes[k] : "\(prediction)"
    }

    /// Whether column `target` holds measurements rather than class labels: every value a
    /// number, and some of them not whole or more than 20 distinct ones (a float target
    /// read as classes would make a class of every value).
    public static func looksContinuous(_ table: CSVTable, target: String) -> Bool {
        guard let index = table.columnIndex(target) else { return false }
        var distinct = Set<Double>()
        var fractional = false
        for row in table.rows {
            let text = row[index].trimmingCharacters(in: .whitespaces)
            if Missing.isMissing(text) { continue }
            guard let value = Number.parse(text), value.isFinite else { return false }
            if value != value.rounded() { fractional = true }
            if distinct.count <= 20 { distinct.insert(value) }
        }
        return fractional || distinct.count > 20
    }

    /// "1.0" and "1" are the same class when every label is numeric, as in numpy.
    static func canonicalLabel(_ text: String) -> String {
        if let value = Number.parse(text), value.isFinite, value == value.rounded(), abs(value) < 1e15 {
            return String(Int64(value))
        }
        return text
    }

    static func sortedLabels(_ labels: Set<String>) -> [String] {
        let numbers = labels.compactMap { Number.parse($0) }
        if numbers.count == labels.count {
            return labels.sorted { (Number.parse($0) ?? 0) < (Number.parse($1) ?? 0) }
        }
        // numpy orders strings by code point; comparing UTF-8 bytes gives that order.
        return labels.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    static func line(_ table: CSVTable, _ rowIndex: Int) -> Int {
        rowIndex < table.rowLines.count ? table.rowLines[rowIndex] : rowIndex + 2
    }
}

/// Which cell texts count as missing values.
public enum Missing {
    public static let tokens: Set<String> = ["", "NA", "N/A", "NaN", "nan", "NAN", "null", "NULL"]

    public static func isMissing(_ trimmed: String) -> Bool {
        tokens.contains(trimmed)
    }
}

extension Dataset {
    /// Loads a dataset for `task`: the target encoded by a new `TargetSchema` (class indices
    /// for classification) and the other columns through `Preprocessing` with `options`.
    public static func load(
        _ table: CSVTable, target: String, task: Task, options: PreprocessingOptions = PreprocessingOptions(),
        source: String
    ) throws -> (dataset: Dataset, target: TargetSchema, features: FeatureSchema) {
        let targetSchema = try TargetSchema.infer(table, target: target, task: task, source: source)
        let values = try targetSchema.encode(table, source: source)
        let (featureSchema, matrix) = try Preprocessing.fit(table, excluding: [target], options: options, source: source)
        let dataset = Dataset(
            featureNames: featureSchema.featureNames, targetName: target, features: matrix, target: values)
        return (dataset, targetSchema, featureSchema)
    }

    /// Loads evaluation data with the schemas a model was trained with.
    public static func load(
        _ table: CSVTable, target: TargetSchema, features: FeatureSchema, source: String
    ) throws -> Dataset {
        let values = try target.encode(table, source: source)
        let matrix = try Preprocessing.apply(features, to: table, excluding: [target.name], source: source)
        return Dataset(featureNames: features.featureNames, targetName: target.name, features: matrix, target: values)
    }
}
