import Foundation

/// Summary statistics of a tensor's values, as shown in model diffs.
///
/// `count` is the number of elements including non-finite ones; every other figure is computed
/// over the finite values only, because a single NaN would otherwise hide all the others.
/// An empty tensor (or one with no finite values) has all figures 0.
public struct TensorStatistics: Sendable, Equatable {
    public var count: Int
    public var min: Double
    public var max: Double
    public var mean: Double
    /// Population standard deviation (numpy's default `ddof=0`).
    public var std: Double
    public var l2Norm: Double
    public var nonFiniteCount: Int

    public init(count: Int, min: Double, max: Double, mean: Double, std: Double, l2Norm: Double, nonFiniteCount: Int) {
        self.count = count
        self.min = min
        self.max = max
        self.mean = mean
        self.std = std
        self.l2Norm = l2Norm
        self.nonFiniteCount = nonFiniteCount
    }

    public static func compute(values: [Double]) -> TensorStatistics {
        var accumulator = Accumulator()
        accumulator.add(values)
        return accumulator.result
    }

    /// Streams the file in ~1 MiB chunks; memory use does not depend on the tensor size.
    public static func compute(npyFileAt url: URL, as logical: DType? = nil) throws -> (NpyHeader, TensorStatistics) {
        var accumulator = Accumulator()
        let header = try Npy.streamValues(fileAt: url, as: logical) { accumulator.add($0) }
        return (header, accumulator.result)
    }

    /// Incremental statistics: each added chunk is summarised with a two-pass, pairwise-summed
    /// mean and variance, and chunks are merged with Chan et al.'s parallel formula, so the error
    /// does not grow with the number of elements the way a naive running sum's does.
    public struct Accumulator: Sendable {
        private var total = 0
        private var nonFinite = 0
        private var finite = 0
        private var mean = 0.0
        private var m2 = 0.0
        private var sumOfSquares = 0.0
        private var minimum = Double.infinity
        private var maximum = -Double.infinity
        private var scratch: [Double] = []

        public init() {}

        public mutating func add(_ values: [Double]) {
            total += values.count
            scratch.removeAll(keepingCapacity: true)
            for value in values {
                if value.isFinite { scratch.append(value) } else { nonFinite += 1 }
            }
            let n = scratch.count
            guard n > 0 else { return }
            var chunkMin = Double.infinity, chunkMax = -Double.infinity
            for value in scratch {
                if value < chunkMin { chunkMin = value }
                if value > chunkMax { chunkMax = value }
            }
            let (chunkMean, chunkM2, chunkSquares) = scratch.withUnsafeBufferPointer { buffer in
                let mean = Self.pairwiseSum(buffer) { $0 } / Double(n)
                let m2 = Self.pairwiseSum(buffer) { ($0 - mean) * ($0 - mean) }
                let squares = Self.pairwiseSum(buffer) { $0 * $0 }
                return (mean, m2, squares)
            }
            let combined = finite + n
            let delta = chunkMean - mean
            mean += delta * Double(n) / Double(combined)
            m2 += chunkM2 + delta * delta * Double(finite) * Double(n) / Double(combined)
            sumOfSquares += chunkSquares
            finite = combined
            minimum = Swift.min(minimum, chunkMin)
            maximum = Swift.max(maximum, chunkMax)
        }

        public var result: TensorStatistics {
            guard finite > 0 else {
                return TensorStatistics(count: total, min: 0, max: 0, mean: 0, std: 0, l2Norm: 0, nonFiniteCount: nonFinite)
            }
            return TensorStatistics(
                count: total, min: minimum, max: maximum, mean: mean,
                std: (Swift.max(0, m2) / Double(finite)).squareRoot(),
                l2Norm: sumOfSquares.squareRoot(), nonFiniteCount: nonFinite)
        }

        /// numpy-style pairwise summation: error grows with log(n) instead of n.
        private static func pairwiseSum(_ buffer: UnsafeBufferPointer<Double>, _ term: (Double) -> Double) -> Double {
            if buffer.count <= 128 {
                var sum = 0.0
                for value in buffer { sum += term(value) }
                return sum
            }
            let half = buffer.count / 2
            return pairwiseSum(UnsafeBufferPointer(rebasing: buffer[..<half]), term)
                + pairwiseSum(UnsafeBufferPointer(rebasing: buffer[half...]), term)
        }
    }
}
