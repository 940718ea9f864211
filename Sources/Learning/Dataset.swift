import Foundation

/// Numeric features and a numeric target, ready for training.
public struct Dataset: Sendable, Equatable {
    public let featureNames: [String]
    public let targetName: String
    public let features: Matrix
    public let target: [Double]

    /// Number of examples (rows).
    public var count: Int { target.count }

    public init(featureNames: [String], targetName: String, features: Matrix, target: [Double]) {
        precondition(features.rows == target.count, "features and target must have the same number of rows")
        precondition(features.columns == featureNames.count, "one feature name per feature column")
        self.featureNames = featureNames
        self.targetName = targetName
        self.features = features
        self.target = target
    }

    /// Uses column `target` as the target and every other column as a numeric feature.
    public static func load(_ table: CSVTable, target: String, source: String) throws -> Dataset {
        guard let targetIndex = table.columnIndex(target) else {
            throw LearningError.missingTargetColumn(source: source, target: target, columns: table.header)
        }
        let featureIndices = table.header.indices.filter { $0 != targetIndex }
        if featureIndices.isEmpty {
            throw LearningError.noFeatureColumns(source: source, target: target)
        }
        let features = try numericColumns(table, indices: featureIndices)
        var targetValues: [Double] = []
        targetValues.reserveCapacity(table.rows.count)
        for (rowIndex, row) in table.rows.enumerated() {
            targetValues.append(try number(row[targetIndex], row: line(table, rowIndex), column: target))
        }
        return Dataset(
            featureNames: featureIndices.map { table.header[$0] },
            targetName: target,
            features: features,
            target: targetValues)
    }

    /// Loads only the named feature columns, in the given order, e.g. to predict with a trained model.
    public static func features(_ table: CSVTable, names: [String], source: String) throws -> Matrix {
        var indices: [Int] = []
        for name in names {
            guard let index = table.columnIndex(name) else {
                throw LearningError.missingFeatureColumn(source: source, name: name, columns: table.header)
            }
            indices.append(index)
        }
        return try numericColumns(table, indices: indices)
    }

    /// The examples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        Dataset(
            featureNames: featureNames,
            targetName: targetName,
            features: features.selectingRows(indices),
            target: indices.map { target[$0] })
    }

    private static func line(_ table: CSVTable, _ rowIndex: Int) -> Int {
        rowIndex < table.rowLines.count ? table.rowLines[rowIndex] : rowIndex + 2
    }

    private static func numericColumns(_ table: CSVTable, indices: [Int]) throws -> Matrix {
        var values: [Double] = []
        values.reserveCapacity(table.rows.count * indices.count)
        for (rowIndex, row) in table.rows.enumerated() {
            for index in indices {
                values.append(try number(row[index], row: line(table, rowIndex), column: table.header[index]))
            }
        }
        return Matrix(rows: table.rows.count, columns: indices.count, values: values)
    }

    private static func number(_ text: String, row: Int, column: String) throws -> Double {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty {
            throw LearningError.missingValue(row: row, column: column)
        }
        guard let value = Number.parse(trimmed) else {
            throw LearningError.notANumber(row: row, column: column, value: text)
        }
        // Double("nan") and Double("inf") succeed, but such values would silently poison training.
        guard value.isFinite else {
            throw LearningError.nonFiniteValue(row: row, column: column, value: text)
        }
        return value
    }
}
