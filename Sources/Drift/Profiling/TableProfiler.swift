import Foundation
import Learning
import ModelFormat

/// Profiles the columns of a CSV table held in memory (training data, or the file given
/// with `--reference`).
public enum TableProfiler {
    /// One profile per named column, over the rows at `rows` (all when nil). A column is
    /// numeric when `kinds` says so or, without a kind, when every present cell is a number.
    public static func profile(
        _ table: CSVTable, columns: [String], kinds: [String: ColumnProfile.Kind] = [:], rows: [Int]? = nil, source: String
    ) throws -> [ColumnProfile] {
        let rows = rows ?? Array(table.rows.indices)
        return try columns.map { name in
            guard let index = table.columnIndex(name) else {
                throw LearningError.missingFeatureColumn(source: source, name: name, columns: table.header)
            }
            var missing = 0
            var texts: [String] = []
            var lines: [Int] = []
            texts.reserveCapacity(rows.count)
            for row in rows {
                let text = table.rows[row][index].trimmingCharacters(in: .whitespaces)
                if Missing.isMissing(text) {
                    missing += 1
                } else {
                    texts.append(text)
                    lines.append(row < table.rowLines.count ? table.rowLines[row] : row + 2)
                }
            }
            let kind = kinds[name] ?? (texts.allSatisfy { Number.parse($0)?.isFinite == true } ? .numeric : .categorical)
            switch kind {
            case .numeric:
                var numbers: [Double] = []
                numbers.reserveCapacity(texts.count)
                for (offset, text) in texts.enumerated() {
                    guard let value = Number.parse(text), value.isFinite else {
                        throw LearningError.textInNumericColumn(row: lines[offset], column: name, value: text)
                    }
                    numbers.append(value)
                }
                return ProfileBuilder.numeric(name: name, values: numbers, missing: missing)
            case .categorical:
                return ProfileBuilder.categorical(name: name, labels: texts, missing: missing)
            }
        }
    }
}
