/// A dense row-major matrix of Doubles.
public struct Matrix: Sendable, Equatable {
    public var rows: Int
    public var columns: Int
    /// Row-major: element (r, c) is at `r * columns + c`.
    public var values: [Double]

    public init(rows: Int, columns: Int, values: [Double]) {
        precondition(rows >= 0 && columns >= 0, "matrix dimensions must not be negative")
        precondition(values.count == rows * columns, "matrix needs rows * columns values")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        self.init(rows: rows, columns: columns, values: Array(repeating: value, count: rows * columns))
    }

    /// Builds a matrix from row arrays, which must all have the same length.
    public init(rowArrays: [[Double]], columns: Int? = nil) {
        let width = columns ?? rowArrays.first?.count ?? 0
        precondition(rowArrays.allSatisfy { $0.count == width }, "all rows must have the same length")
        self.init(rows: rowArrays.count, columns: width, values: rowArrays.flatMap { $0 })
    }

    public subscript(row: Int, column: Int) -> Double {
        get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }

    /// The values of one row.
    public func row(_ index: Int) -> ArraySlice<Double> {
        values[(index * columns)..<((index + 1) * columns)]
    }

    /// The values of one column.
    public func column(_ index: Int) -> [Double] {
        (0..<rows).map { values[$0 * columns + index] }
    }

    /// A matrix made of the given rows, in the given order.
    public func selectingRows(_ indices: [Int]) -> Matrix {
        var out: [Double] = []
        out.reserveCapacity(indices.count * columns)
        for index in indices {
            out.append(contentsOf: row(index))
        }
        return Matrix(rows: indices.count, columns: columns, values: out)
    }
}
