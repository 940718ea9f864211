import Foundation

/// Everything that can go wrong while reading data, splitting it, training or predicting.
///
/// Each description is a single line meant to be shown to the user as-is.
public enum LearningError: Error, CustomStringConvertible, LocalizedError, Sendable, Equatable {
    // CSV
    case emptyFile(source: String)
    case headerOnly(source: String)
    case invalidUTF8(source: String, line: Int)
    case unterminatedQuote(source: String, line: Int)
    case textAfterClosingQuote(source: String, line: Int)
    case fieldCountMismatch(source: String, line: Int, expected: Int, actual: Int)
    case emptyHeaderName(source: String, column: Int)
    case duplicateHeaderName(source: String, name: String, firstColumn: Int, secondColumn: Int)
    // Dataset
    case missingTargetColumn(source: String, target: String, columns: [String])
    case missingFeatureColumn(source: String, name: String, columns: [String])
    case noFeatureColumns(source: String, target: String)
    case notANumber(row: Int, column: String, value: String)
    case missingValue(row: Int, column: String)
    case nonFiniteValue(row: Int, column: String, value: String)
    // Split
    case invalidTestFraction(Double)
    case emptyTrainingSet(rows: Int, testFraction: Double)
    // Training
    case unknownAlgorithm(name: String, known: [String])
    case unknownHyperparameter(algorithm: String, key: String, valid: [String])
    case invalidHyperparameter(algorithm: String, key: String, value: String, expected: String)
    case emptyTrainingData(algorithm: String)
    case nonFiniteTrainingData(algorithm: String)
    case tooFewRows(algorithm: String, rows: Int, parameters: Int)
    case linearlyDependentColumn(algorithm: String, column: String)
    case invalidStoredModel(algorithm: String, reason: String)
    case featureCountMismatch(expected: Int, actual: Int)
    // Targets and preprocessing
    case nonNumericRegressionTarget(row: Int, column: String, value: String)
    case singleClass(algorithm: String, label: String)
    case unseenClass(row: Int, column: String, value: String, known: [String])
    case classOutOfRange(label: Double, classCount: Int)
    case missingValueWithoutImpute(row: Int, column: String)
    case allValuesMissing(column: String)
    case unknownCategory(row: Int, column: String, value: String, known: [String])
    case unexpectedColumn(source: String, name: String)
    case textInNumericColumn(row: Int, column: String, value: String)
    case strayTextInNumbers(row: Int, column: String, value: String, numbers: Int)
    case nulByte(source: String, line: Int)
    case lineTooLong(source: String, line: Int, limit: Int)
    case tooManyFields(source: String, line: Int, limit: Int)
    case didNotConverge(algorithm: String, iterations: Int, hint: String)

    public var description: String {
        switch self {
        case .emptyFile(let source):
            return "'\(source)' is empty: expected a header line and data rows"
        case .headerOnly(let source):
            return "'\(source)' has a header but no data rows"
        case .invalidUTF8(let source, let line):
            return "'\(source)' line \(line) is not valid UTF-8; save the file as UTF-8"
        case .unterminatedQuote(let source, let line):
            return "'\(source)' line \(line): a quoted field is never closed; add the missing '\"'"
        case .textAfterClosingQuote(let source, let line):
            return
                "'\(source)' line \(line): unexpected text after a closing quote; quote the whole field and write quotes inside it as \"\""
        case .fieldCountMismatch(let source, let line, let expected, let actual):
            if actual == 1 && expected > 1 {
                return "'\(source)' line \(line) has 1 field but the header has \(expected) (a blank line or a missing separator?)"
            }
            return "'\(source)' line \(line) has \(actual) field\(actual == 1 ? "" : "s") but the header has \(expected)"
        case .emptyHeaderName(let source, let column):
            return "'\(source)' header column \(column) has an empty name; give every column a name"
        case .duplicateHeaderName(let source, let name, let first, let second):
            return "'\(source)' header names column '\(name)' twice (columns \(first) and \(second)); rename one of them"
        case .missingTargetColumn(let source, let target, let columns):
            return "no column '\(target)' in '\(source)' (columns: \(columns.joined(separator: ", "))); pass the target with --target"
        case .missingFeatureColumn(let source, let name, let columns):
            return
                "no feature column '\(name)' in '\(source)' (columns: \(columns.joined(separator: ", "))); the model needs every feature it was trained on"
        case .noFeatureColumns(let source, let target):
            return "'\(source)' has only the target column '\(target)': add at least one feature column"
        case .notANumber(let row, let column, let value):
            return "row \(row), column '\(column)': '\(value)' is not a number"
        case .missingValue(let row, let column):
            return "row \(row), column '\(column)': missing value"
        case .nonFiniteValue(let row, let column, let value):
            return "row \(row), column '\(column)': '\(value)' is not a finite number"
        case .invalidTestFraction(let fraction):
            return "test fraction \(fraction) is out of range; use a value at least 0 and below 1"
        case .emptyTrainingSet(let rows, let fraction):
            return
                "splitting \(rows) row\(rows == 1 ? "" : "s") with test fraction \(fraction) leaves no training rows; add data or lower the test fraction"
        case .unknownAlgorithm(let name, let known):
            return "unknown algorithm '\(name)' (known: \(known.joined(separator: ", ")))"
        case .unknownHyperparameter(let algorithm, let key, let valid):
            let list = valid.isEmpty ? "it takes none" : "valid: \(valid.joined(separator: ", "))"
            return "unknown hyperparameter '\(key)' for \(algorithm) (\(list))"
        case .invalidHyperparameter(let algorithm, let key, let value, let expected):
            return "hyperparameter '\(key)' for \(algorithm): '\(value)' is not \(expected)"
        case .emptyTrainingData(let algorithm):
            return "cannot train \(algorithm) on 0 rows; the training data is empty"
        case .nonFiniteTrainingData(let algorithm):
            return "cannot train \(algorithm): the training data contains nan or infinite values"
        case .tooFewRows(let algorithm, let rows, let parameters):
            return
                "\(algorithm) needs at least \(parameters) rows to fit \(parameters) parameters but got \(rows); add rows or drop feature columns"
        case .linearlyDependentColumn(let algorithm, let column):
            return
                "feature column '\(column)' is constant or a linear combination of the columns before it, so \(algorithm) has no unique solution; drop '\(column)' and train again"
        case .invalidStoredModel(let algorithm, let reason):
            return "stored \(algorithm) model is unusable: \(reason)"
        case .featureCountMismatch(let expected, let actual):
            return "the model expects \(expected) feature column\(expected == 1 ? "" : "s") but got \(actual)"
        case .nonNumericRegressionTarget(let row, let column, let value):
            return
                "row \(row), target '\(column)': '\(value)' is not a number, but regression needs a numeric target; choose a classification algorithm or a numeric target column"
        case .singleClass(let algorithm, let label):
            return
                "cannot train \(algorithm): the target has only one class ('\(label)'); classification needs at least two classes in the training rows"
        case .unseenClass(let row, let column, let value, let known):
            return
                "row \(row), target '\(column)': class '\(value)' was not seen in training (known: \(known.joined(separator: ", "))); remove the row or retrain with it"
        case .classOutOfRange(let label, let classCount):
            return "class label \(label) is not a class index below \(classCount); encode the target with TargetSchema"
        case .missingValueWithoutImpute(let row, let column):
            return "row \(row), column '\(column)': missing value; fill it in, or pass --impute mean, median or most-frequent"
        case .allValuesMissing(let column):
            return "column '\(column)' has no values at all; drop it or fill it in"
        case .unknownCategory(let row, let column, let value, let known):
            let list = known.count > 10 ? known.prefix(10).joined(separator: ", ") + ", …" : known.joined(separator: ", ")
            return
                "row \(row), column '\(column)': category '\(value)' was not seen in training (known: \(list)); fix the value or allow unknown categories"
        case .unexpectedColumn(let source, let name):
            return "'\(source)' has column '\(name)' that the model was not trained on; drop the column"
        case .strayTextInNumbers(let row, let column, let value, let numbers):
            return
                "row \(row), column '\(column)': '\(value)' is not a number, though the column's other \(numbers) values are; write it as a plain decimal number (no thousands separators, '.' for the decimal point) or leave it empty"
        case .nulByte(let source, let line):
            return "'\(source)' line \(line) holds a NUL byte: it is not a text CSV file"
        case .lineTooLong(let source, let line, let limit):
            return "'\(source)' line \(line) is longer than \(limit / (1 << 20)) MiB: not a CSV file mv can read"
        case .tooManyFields(let source, let line, let limit):
            return "'\(source)' line \(line) has more than \(limit) fields: not a CSV file mv can read"
        case .textInNumericColumn(let row, let column, let value):
            return
                "row \(row), column '\(column)': '\(value)' is not a number, but the model was trained with '\(column)' numeric; fix the value"
        case .didNotConverge(let algorithm, let iterations, let hint):
            return "\(algorithm) did not converge in \(iterations) iterations; \(hint)"
        }
    }

    public var errorDescription: String? { description }
}
