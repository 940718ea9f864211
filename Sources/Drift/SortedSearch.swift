/// Positions in increasing arrays of numbers: a sketch's points and PSI edges, a sorted column.
enum SortedSearch {
    /// Index of the first element not less than `x` (the count when there is none). Branch
    /// free (a conditional move per step): the comparisons of random data are unpredictable,
    /// and a mispredicted branch per step costs more than the step.
    static func firstNotLess(_ sorted: [Double], _ x: Double) -> Int {
        sorted.withUnsafeBufferPointer { buffer in
            var base = 0
            var n = buffer.count
            guard n > 0 else { return 0 }
            while n > 1 {
                let half = n >> 1
                base = buffer[base + half - 1] < x ? base + half : base
                n -= half
            }
            return base + (buffer[base] < x ? 1 : 0)
        }
    }

    /// Index of the first element greater than `x`: the first not less than the next number up.
    static func firstGreater(_ sorted: [Double], _ x: Double) -> Int {
        firstNotLess(sorted, x.nextUp)
    }
}
