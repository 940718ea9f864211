import Foundation

/// How to fill missing feature values.
public enum ImputeStrategy: String, Sendable, Codable, CaseIterable {
    case mean
    case median
    case mostFrequent = "most-frequent"
}

/// Choices for turning a table into a feature matrix.
public struct PreprocessingOptions: Sendable, Equatable {
    /// nil refuses missing values with an error naming row and column.
    public var impute: ImputeStrategy?
    /// Centre and scale numeric columns (population standard deviation, as scikit-learn's StandardScaler).
    public var standardize: Bool
    /// Encode a category not seen in training as all zeros instead of failing.
    public var ignoreUnknownCategories: Bool

    public init(impute: ImputeStrategy? = nil, standardize: Bool = false, ignoreUnknownCategories: Bool = false) {
        self.impute = impute
        self.standardize = standardize
        self.ignoreUnknownCategories = ignoreUnknownCategories
    }
}

/// What training learned about the feature columns, so new data can be encoded the same way.
/// `Codable` so the registry can keep it in the manifest.
public struct FeatureSchema: Sendable, Codable, Equatable {
    /// Whether a column holds numbers or category labels.
    public enum Kind: String, Sendable, Codable {
        case numeric
        case categorical
    }

    /// One source column and how it is encoded.
    public struct Column: Sendable, Codable, Equatable {
        public var name: String
        public var kind: Kind
        /// Sorted vocabulary of a categorical column; one one-hot feature each.
        public var categories: [String]?
        /// The value that replaces a missing cell (a number's text for numeric columns).
        public var fill: String?
        /// Standardization of a numeric column: (x - mean) / std.
        public var mean: Double?
        public var std: Double?

        public init(name: String, kind: Kind, categories: [String]? = nil, fill: String? = nil, mean: Double? = nil, std: Double? = nil) {
            self.name = name
            self.kind = kind
            self.categories = categories
            self.fill = fill
            self.mean = mean
            self.std = std
        }
    }

    public var columns: [Column]
    public var impute: ImputeStrategy?
    public var standardize: Bool
    public var ignoreUnknownCategories: Bool

    public init(columns: [Column], impute: ImputeStrategy?, standardize: Bool, ignoreUnknownCategories: Bool) {
        self.columns = columns
        self.impute = impute
        self.standardize = standardize
        self.ignoreUnknownCategories = ignoreUnknownCategories
    }

    /// Names of the encoded features: numeric columns as is, one-hot ones as "column=category".
    public var featureNames: [String] {
        columns.flatMap { column -> [String] in
            switch column.kind {
            case .numeric: return [column.name]
            case .categorical: return (column.categories ?? []).map { "\(column.name)=\($0)" }
            }
        }
    }

    /// Width of the encoded matrix.
    public var featureCount: Int {
        columns.reduce(0) { $0 + ($1.kind == .numeric ? 1 : ($1.categories?.count ?? 0)) }
    }
}

/// Builds feature schemas from tables and encodes tables with them.
public enum Preprocessing {
    /// Learns a schema from every column of `table` not in `excluding` and encodes the table with it.
    /// A column is numeric when every present value parses as a number, else categorical.
    public static func fit(
        _ table: CSVTable, excluding: [String], options: PreprocessingOptions, source: String
    ) throws -> (schema: FeatureSchema, features: Matrix) {
        let indices = table.header.indices.filter { !excluding.contains(table.header[$0]) }
        if indices.isEmpty {
            throw LearningError.noFeatureColumns(source: source, target: excluding.first ?? "")
        }
        var columns: [FeatureSchema.Column] = []
        for index in indices {
            let name = table.header[index]
            var present: [String] = []
            var numbers: [Double] = []
            var allNumeric = true
            var missingRow: Int?
            // The first cell that is not a number, and how many are not.
            var firstText: (row: Int, value: String)?
            var textCount = 0
            for (rowIndex, row) in table.rows.enumerated() {
                let text = row[index].trimmingCharacters(in: .whitespaces)
                if Missing.isMissing(text) {
                    if missingRow == nil { missingRow = TargetSchema.line(table, rowIndex) }
                    continue
                }
                present.append(text)
                if let value = Number.parse(text) {
                    guard value.isFinite else {
                        throw LearningError.nonFiniteValue(row: TargetSchema.line(table, rowIndex), column: name, value: row[index])
                    }
                    numbers.append(value)
                } else {
                    allNumeric = false
                    textCount += 1
                    if firstText == nil { firstText = (TargetSchema.line(table, rowIndex), row[index]) }
                }
            }
            if present.isEmpty {
                throw LearningError.allValuesMissing(column: name)
            }
            // A column of numbers with a stray cell of text (`1_000`, `1,5`) is a typo, not a
            // column of categories: one such cell among ten numbers or more, or fewer than one
            // in a hundred, names the cell instead of one-hot encoding the whole column.
            if let firstText, numbers.count >= 10, textCount <= max(1, present.count / 100) {
                throw LearningError.strayTextInNumbers(row: firstText.row, column: name, value: firstText.value, numbers: numbers.count)
            }
            if let missingRow, options.impute == nil {
                throw LearningError.missingValueWithoutImpute(row: missingRow, column: name)
            }
            if allNumeric {
                var column = FeatureSchema.Column(name: name, kind: .numeric)
                if missingRow != nil, let impute = options.impute {
                    column.fill = "\(fillValue(numbers, impute))"
                }
                if options.standardize {
                    // Statistics after imputation, as a scikit-learn pipeline imputer → scaler sees them.
                    var filled = numbers
                    if let fill = column.fill.flatMap(Double.init) {
                        filled += Array(repeating: fill, count: table.rows.count - numbers.count)
                    }
                    let mean = filled.reduce(0, +) / Double(filled.count)
                    var variance = 0.0
                    for value in filled { variance += (value - mean) * (value - mean) }
                    let std = (variance / Double(filled.count)).squareRoot()
                    column.mean = mean
                    // A constant column keeps scale 1, as StandardScaler does, instead of dividing by zero.
                    column.std = std > 0 ? std : 1
                }
                columns.append(column)
            } else {
                let categories = TargetSchema.sortedLabels(Set(present))
                var column = FeatureSchema.Column(name: name, kind: .categorical, categories: categories)
                if missingRow != nil {
                    // Means and medians do not exist for labels; the most frequent label fills them.
                    column.fill = mostFrequentLabel(present, order: categories)
                }
                columns.append(column)
            }
        }
        let schema = FeatureSchema(
            columns: columns, impute: options.impute, standardize: options.standardize,
            ignoreUnknownCategories: options.ignoreUnknownCategories)
        let matrix = try apply(schema, to: table, excluding: excluding, source: source)
        return (schema, matrix)
    }

    /// Encodes `table` with a stored schema. Every schema column must be present; columns
    /// neither in the schema nor in `excluding` are refused so that a renamed column is noticed.
    public static func apply(_ schema: FeatureSchema, to table: CSVTable, excluding: [String], source: String) throws -> Matrix {
        let known = Set(schema.columns.map(\.name))
        for name in table.header where !known.contains(name) && !excluding.contains(name) {
            throw LearningError.unexpectedColumn(source: source, name: name)
        }
        var indices: [Int] = []
        for column in schema.columns {
            guard let index = table.columnIndex(column.name) else {
                throw LearningError.missingFeatureColumn(source: source, name: column.name, columns: table.header)
            }
            indices.append(index)
        }
        let width = schema.featureCount
        var values = [Double](repeating: 0, count: table.rows.count * width)
        var offsets: [Int] = []
        var lookups: [[String: Int]] = []
        var offset = 0
        for column in schema.columns {
            offsets.append(offset)
            let categories = column.categories ?? []
            lookups.append(Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($0.element, $0.offset) }))
            offset += column.kind == .numeric ? 1 : categories.count
        }
        for (rowIndex, row) in table.rows.enumerated() {
            let base = rowIndex * width
            for (c, column) in schema.columns.enumerated() {
                var text = row[indices[c]].trimmingCharacters(in: .whitespaces)
                if Missing.isMissing(text) {
                    guard schema.impute != nil, let fill = column.fill else {
                        throw LearningError.missingValueWithoutImpute(row: TargetSchema.line(table, rowIndex), column: column.name)
                    }
                    text = fill
                }
                switch column.kind {
                case .numeric:
                    guard let value = Number.parse(text) else {
                        throw LearningError.textInNumericColumn(row: TargetSchema.line(table, rowIndex), column: column.name, value: text)
                    }
                    guard value.isFinite else {
                        throw LearningError.nonFiniteValue(row: TargetSchema.line(table, rowIndex), column: column.name, value: text)
                    }
                    if let mean = column.mean, let std = column.std {
                        values[base + offsets[c]] = (value - mean) / std
                    } else {
                        values[base + offsets[c]] = value
                    }
                case .categorical:
                    if let k = lookups[c][text] {
                        values[base + offsets[c] + k] = 1
                    } else if !schema.ignoreUnknownCategories {
                        throw LearningError.unknownCategory(
                            row: TargetSchema.line(table, rowIndex), column: column.name, value: text,
                            known: column.categories ?? [])
                    }
                }
            }
        }
        return Matrix(rows: table.rows.count, columns: width, values: values)
    }

    static func fillValue(_ numbers: [Double], _ strategy: ImputeStrategy) -> Double {
        switch strategy {
        case .mean:
            return numbers.reduce(0, +) / Double(numbers.count)
        case .median:
            let sorted = numbers.sorted()
            let mid = sorted.count / 2
            return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
        case .mostFrequent:
            var counts: [Double: Int] = [:]
            for value in numbers { counts[value, default: 0] += 1 }
            // Ties go to the smallest value, as scikit-learn's SimpleImputer.
            return counts.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key ?? 0
        }
    }

    static func mostFrequentLabel(_ labels: [String], order: [String]) -> String {
        var counts: [String: Int] = [:]
        for label in labels { counts[label, default: 0] += 1 }
        // `order` is sorted, so the first label with the top count is the smallest, as SimpleImputer picks.
        let top = counts.values.max() ?? 0
        return order.first { counts[$0] == top } ?? ""
    }
}
