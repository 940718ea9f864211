import Foundation

/// Summary statistics of a tensor's values, as shown in model diffs.
///
/// `count` is the number of elements including non-finite ones; every other figure is computed
/// over the finite values only, because a single NaN would otherwise hide all the others.
/// An empty tensor (or one with no finite values) has all figures 0. Of equal extremes (0 and
/// -0), `min` and `max` are the first in element order, so the result does not depend on chunking.
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

    /// Streams the file in ~1 MiB chunks of raw elements; memory use does not depend on the tensor size.
    public static func compute(npyFileAt url: URL, as logical: DType? = nil) throws -> (NpyHeader, TensorStatistics) {
        var accumulator = Accumulator()
        let header = try Npy.streamRaw(fileAt: url, as: logical) { accumulator.add(raw: $0, dtype: $1) }
        return (header, accumulator.result)
    }

    /// Incremental statistics. Values are summarised in pieces (a chunk of Doubles, or a block of
    /// raw elements) whose mean and M2 are computed accurately, and the pieces are merged with
    /// Chan et al.'s parallel formula in a balanced tree (see `push`), so the error grows with
    /// log(n) rather than with n as a naive running sum's does.
    public struct Accumulator: Sendable {
        private var total = 0
        private var nonFinite = 0
        private var minimum = Double.infinity
        private var maximum = -Double.infinity
        /// Summaries not yet merged, oldest first, each of a lower `level` than the one before.
        private var pending: [Moments] = []
        private var finiteScratch: [Double] = []
        private var decodeScratch: [Double] = []

        public init() {}

        public mutating func add(_ values: [Double]) {
            total += values.count
            values.withUnsafeBufferPointer { addDecoded($0) }
        }

        public var result: TensorStatistics {
            var all = Moments()
            for piece in pending.reversed() {
                var merged = piece
                merged.merge(all)
                all = merged
            }
            guard all.count > 0 else {
                return TensorStatistics(count: total, min: 0, max: 0, mean: 0, std: 0, l2Norm: 0, nonFiniteCount: nonFinite)
            }
            return TensorStatistics(
                count: total, min: minimum, max: maximum, mean: all.mean,
                std: (Swift.max(0, all.m2) / Double(all.count)).squareRoot(),
                l2Norm: all.sumOfSquares.squareRoot(), nonFiniteCount: nonFinite)
        }

        /// The reference algorithm: non-finite values filtered out, then a two-pass, pairwise-summed
        /// mean and M2. The raw path falls back to it for blocks holding NaN or ±Inf.
        /// Does not count the values into `total`; callers do.
        private mutating func addDecoded(_ values: UnsafeBufferPointer<Double>) {
            finiteScratch.removeAll(keepingCapacity: true)
            for value in values {
                if value.isFinite { finiteScratch.append(value) } else { nonFinite += 1 }
            }
            let n = finiteScratch.count
            guard n > 0 else { return }
            var chunkMin = Double.infinity
            var chunkMax = -Double.infinity
            for value in finiteScratch {
                if value < chunkMin { chunkMin = value }
                if value > chunkMax { chunkMax = value }
            }
            let (chunkMean, chunkM2, chunkSquares) = finiteScratch.withUnsafeBufferPointer { buffer in
                let mean = Self.pairwiseSum(buffer) { $0 } / Double(n)
                let m2 = Self.pairwiseSum(buffer) { ($0 - mean) * ($0 - mean) }
                let squares = Self.pairwiseSum(buffer) { $0 * $0 }
                return (mean, m2, squares)
            }
            record(
                Moments(count: n, base: chunkMean, m2: chunkM2, sumOfSquares: chunkSquares, weight: values.count),
                min: chunkMin, max: chunkMax)
        }

        private mutating func record(_ moments: Moments, min: Double, max: Double) {
            // Strict comparisons keep the earliest of equal extremes (0 before -0 or the reverse).
            if min < minimum { minimum = min }
            if max > maximum { maximum = max }
            push(moments)
        }

        /// Merges like a binary counter: a new summary is merged into the one before it while that
        /// one's level is no higher, so equal-sized blocks combine pairwise, every element goes
        /// through O(log n) merges (each adding a few rounding errors), and at most 64 wait.
        private mutating func push(_ moments: Moments) {
            guard moments.count > 0 else { return }
            pending.append(moments)
            while pending.count >= 2, pending[pending.count - 2].level <= pending[pending.count - 1].level {
                let newer = pending.removeLast()
                pending[pending.count - 1].merge(newer)
            }
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

/// Count, mean, M2 (sum of squared deviations from the mean) and sum of squares of some finite
/// values; `weight` is how many elements, finite or not, they came from, for balancing merges.
///
/// The mean is kept as `base + offset`, base near the values (a block's first value, a chunk's
/// mean): when the values sit far from zero (1e9 ± 0.5), a single Double mean is off by up to half
/// its ulp (6e-8), large next to the differences between block means from which each merge adds
/// to M2, and std lost four digits that way (1e-11 relative; 1e-14 with the offset).
private struct Moments {
    var count = 0
    var base = 0.0
    var offset = 0.0
    var m2 = 0.0
    var sumOfSquares = 0.0
    var weight = 0

    var mean: Double { base + offset }

    /// log2 of `weight`, rounded down, plus one.
    var level: Int { Int.bitWidth - weight.leadingZeroBitCount }

    /// Chan, Golub and LeVeque's pairwise update.
    mutating func merge(_ other: Moments) {
        guard other.count > 0 else {
            weight += other.weight
            return
        }
        guard count > 0 else {
            let w = weight
            self = other
            weight += w
            return
        }
        let combined = count + other.count
        // Nearby bases subtract exactly.
        let delta = (other.base - base) + (other.offset - offset)
        offset += delta * Double(other.count) / Double(combined)
        m2 += other.m2 + delta * delta * Double(count) * Double(other.count) / Double(combined)
        sumOfSquares += other.sumOfSquares
        count = combined
        weight += other.weight
    }
}

extension TensorStatistics.Accumulator {
    /// Adds whole little-endian elements of `dtype` straight from raw bytes (`bytes.count` a
    /// multiple of the item size). The results match decoding them to Doubles and calling `add(_:)`
    /// (count, non-finite count, min and max exactly; the rest to about 1e-15 relative), tens of
    /// times faster. The bytes need no particular alignment.
    public mutating func add(raw bytes: UnsafeRawBufferPointer, dtype: DType) {
        let size = dtype.itemSize
        precondition(bytes.count % size == 0, "\(bytes.count) bytes are not whole \(dtype.rawValue) elements")
        let count = bytes.count / size
        total += count
        guard count > 0, let base = bytes.baseAddress else { return }
        #if _endian(little)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: RawBlocks.length) { doubles in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: RawBlocks.length) { floats in
                guard let doubleScratch = doubles.baseAddress, let floatScratch = floats.baseAddress else { return }
                var start = 0
                while start < count {
                    let n = Swift.min(RawBlocks.length, count - start)
                    let block = base + start * size
                    if let summary = RawBlocks.summarize(block, count: n, dtype: dtype, floats: floatScratch, doubles: doubleScratch) {
                        record(summary.moments, min: summary.min, max: summary.max)
                    } else {
                        addSlowly(UnsafeRawBufferPointer(start: block, count: n * size), dtype: dtype)
                    }
                    start += n
                }
            }
        }
        #else
        // The block kernels read elements in the machine's byte order.
        addSlowly(bytes, dtype: dtype)
        #endif
    }

    private mutating func addSlowly(_ bytes: UnsafeRawBufferPointer, dtype: DType) {
        var values = decodeScratch
        decodeScratch = []
        values.removeAll(keepingCapacity: true)
        TensorElementDecoding.decode(bytes, dtype: dtype, into: &values)
        values.withUnsafeBufferPointer { addDecoded($0) }
        decodeScratch = values
    }
}

/// Summaries of blocks of raw elements in one pass each.
///
/// Per block of up to `length` elements, in Double: the sums of d = x - shift and of d², where the
/// shift is the block's first element, plus min and max. Then mean = shift + Σd/n and
/// M2 = Σd² - (Σd)²/n. The subtraction loses accuracy only by the factor 1 + (mean - shift)²/var,
/// and because the shift is one of the block's values, (shift - mean)² ≤ n·var, so at most
/// log10(4096) ≈ 3.6 of Double's ~16 digits are lost in the worst case (typically under one),
/// which a second pass over the block would save at a cost in speed for digits no one reads.
/// The sums run in 4-8 independent lanes over at most 4096 elements, so their own error stays
/// near 1e-15. Integer types up to 16 bits are summed exactly in integers instead.
/// Halves and bfloat16 are first widened to Float in a scratch block that stays in L1: those
/// scalar loops vectorize, while the same steps written with SIMD integer types compiled to
/// code an order of magnitude slower (Swift 6.3).
/// A block whose floating-point sums come out non-finite (it holds NaN or ±Inf, or float64
/// values so large their squares overflow) returns nil, and the caller uses the reference path.
private enum RawBlocks {
    /// 16 KiB of float32: a block and its scratch copy stay in L1.
    static let length = 4096

    struct Summary {
        var moments: Moments
        var min: Double
        var max: Double
    }

    @inline(__always)
    static func summarize(
        _ p: UnsafeRawPointer, count n: Int, dtype: DType,
        floats: UnsafeMutablePointer<Float>, doubles: UnsafeMutablePointer<Double>
    ) -> Summary? {
        switch dtype {
        case .float32:
            return float32s(p, count: n)
        case .float16:
            for i in 0..<n { floats[i] = TensorElementDecoding.halfToFloat(p.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)) }
            return float32s(UnsafeRawPointer(floats), count: n)
        case .bfloat16:
            // The upper half of an IEEE float32.
            for i in 0..<n {
                floats[i] = Float(bitPattern: UInt32(p.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)) << 16)
            }
            return float32s(UnsafeRawPointer(floats), count: n)
        case .float64:
            return float64s(p, count: n)
        case .bool:
            return bytes(p, count: n) { $0 != 0 ? 1 : 0 }
        case .uint8:
            return bytes(p, count: n) { Int32($0) }
        case .int8:
            return bytes(p, count: n) { Int32(Int8(bitPattern: $0)) }
        case .int16:
            return halfWords(p, count: n) { Int32(Int16(bitPattern: $0)) }
        case .uint16:
            return halfWords(p, count: n) { Int32($0) }
        case .int32:
            for i in 0..<n { doubles[i] = Double(p.loadUnaligned(fromByteOffset: i &* 4, as: Int32.self)) }
            return float64s(UnsafeRawPointer(doubles), count: n)
        case .uint32:
            for i in 0..<n { doubles[i] = Double(p.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self)) }
            return float64s(UnsafeRawPointer(doubles), count: n)
        case .int64:
            for i in 0..<n { doubles[i] = Double(p.loadUnaligned(fromByteOffset: i &* 8, as: Int64.self)) }
            return float64s(UnsafeRawPointer(doubles), count: n)
        case .uint64:
            for i in 0..<n { doubles[i] = Double(p.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self)) }
            return float64s(UnsafeRawPointer(doubles), count: n)
        }
    }

    /// Moments from sums of deviations from `shift`; see the type's comment.
    @inline(__always)
    static func shifted(count n: Int, shift: Double, sum: Double, squares: Double, min: Double, max: Double) -> Summary {
        let count = Double(n)
        let offset = sum / count
        let mean = shift + offset
        let m2 = Swift.max(0, squares - sum * offset)
        // Σx² = M2 + n·mean² exactly; both terms are non-negative, so nothing cancels.
        return Summary(
            moments: Moments(count: n, base: shift, offset: offset, m2: m2, sumOfSquares: m2 + count * mean * mean, weight: n),
            min: min, max: max)
    }

    /// `n` little-endian float32 values at any alignment.
    @inline(__always)
    static func float32s(_ p: UnsafeRawPointer, count n: Int) -> Summary? {
        let first = p.loadUnaligned(as: Float.self)
        guard first.isFinite else { return nil }
        let shift = Double(first)
        let shifts = SIMD4<Double>(repeating: shift)
        var sums = SIMD4<Double>()
        var squareSums = SIMD4<Double>()
        var lows = SIMD8<Float>(repeating: first)
        var highs = lows
        var i = 0
        let vectorEnd = n & ~7
        while i < vectorEnd {
            let v = p.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            // Not pointwiseMin/Max: those are not inlined and cost a call per vector.
            lows.replace(with: v, where: v .< lows)
            highs.replace(with: v, where: v .> highs)
            let a = SIMD4<Double>(v.lowHalf) - shifts
            let b = SIMD4<Double>(v.highHalf) - shifts
            sums += a + b
            squareSums += a * a + b * b
            i &+= 8
        }
        var sum = sums.sum()
        var squares = squareSums.sum()
        var low = lows.min()
        var high = highs.max()
        while i < n {
            let x = p.loadUnaligned(fromByteOffset: i &* 4, as: Float.self)
            if x < low { low = x }
            if x > high { high = x }
            let d = Double(x) - shift
            sum += d
            squares += d * d
            i &+= 1
        }
        // Any NaN or ±Inf makes the sum of squares NaN or +Inf; finite float32s cannot overflow it.
        guard squares.isFinite else { return nil }
        if low == 0 { low = firstZero(p, count: n, as: Float.self) }
        if high == 0 { high = firstZero(p, count: n, as: Float.self) }
        return shifted(count: n, shift: shift, sum: sum, squares: squares, min: Double(low), max: Double(high))
    }

    /// `n` little-endian float64 values at any alignment.
    @inline(__always)
    static func float64s(_ p: UnsafeRawPointer, count n: Int) -> Summary? {
        let first = p.loadUnaligned(as: Double.self)
        guard first.isFinite else { return nil }
        let shifts = SIMD4<Double>(repeating: first)
        var sums = SIMD4<Double>()
        var squareSums = SIMD4<Double>()
        var lows = SIMD4<Double>(repeating: first)
        var highs = lows
        var i = 0
        let vectorEnd = n & ~3
        while i < vectorEnd {
            let v = p.loadUnaligned(fromByteOffset: i &* 8, as: SIMD4<Double>.self)
            lows.replace(with: v, where: v .< lows)
            highs.replace(with: v, where: v .> highs)
            let d = v - shifts
            sums += d
            squareSums += d * d
            i &+= 4
        }
        var sum = sums.sum()
        var squares = squareSums.sum()
        var low = lows.min()
        var high = highs.max()
        while i < n {
            let x = p.loadUnaligned(fromByteOffset: i &* 8, as: Double.self)
            if x < low { low = x }
            if x > high { high = x }
            let d = x - first
            sum += d
            squares += d * d
            i &+= 1
        }
        guard squares.isFinite else { return nil }
        if low == 0 { low = firstZero(p, count: n, as: Double.self) }
        if high == 0 { high = firstZero(p, count: n, as: Double.self) }
        return shifted(count: n, shift: first, sum: sum, squares: squares, min: low, max: high)
    }

    /// The first zero in element order, so an extreme of 0 has the sign the reference path gives it.
    static func firstZero<F: BinaryFloatingPoint & BitwiseCopyable>(_ p: UnsafeRawPointer, count n: Int, as: F.Type) -> F {
        for i in 0..<n {
            let x = p.loadUnaligned(fromByteOffset: i * MemoryLayout<F>.size, as: F.self)
            if x == 0 { return x }
        }
        return 0
    }

    /// Sums in Int32: at most 4096 · 255² < 2^31, so exact.
    @inline(__always)
    static func bytes(_ p: UnsafeRawPointer, count n: Int, _ value: (UInt8) -> Int32) -> Summary {
        var sum: Int32 = 0
        var squares: Int32 = 0
        var low = Int32.max
        var high = Int32.min
        for i in 0..<n {
            let x = value(p.load(fromByteOffset: i, as: UInt8.self))
            sum &+= x
            squares &+= x &* x
            low = Swift.min(low, x)
            high = Swift.max(high, x)
        }
        return exact(count: n, sum: Int64(sum), squares: Int64(squares), min: low, max: high)
    }

    /// Sums of squares in Int64: up to 4096 · 65535² ≈ 2^44.
    @inline(__always)
    static func halfWords(_ p: UnsafeRawPointer, count n: Int, _ value: (UInt16) -> Int32) -> Summary {
        var sum: Int32 = 0
        var squares: Int64 = 0
        var low = Int32.max
        var high = Int32.min
        for i in 0..<n {
            let x = value(p.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self))
            sum &+= x
            squares &+= Int64(x) &* Int64(x)
            low = Swift.min(low, x)
            high = Swift.max(high, x)
        }
        return exact(count: n, sum: Int64(sum), squares: squares, min: low, max: high)
    }

    /// n·Σx² - (Σx)² ≤ 2^56 is exact in Int64, so M2 is rounded once.
    @inline(__always)
    static func exact(count n: Int, sum: Int64, squares: Int64, min: Int32, max: Int32) -> Summary {
        let count = Double(n)
        let m2 = Double(Int64(n) &* squares &- sum &* sum) / count
        return Summary(
            moments: Moments(count: n, offset: Double(sum) / count, m2: m2, sumOfSquares: Double(squares), weight: n),
            min: Double(min), max: Double(max))
    }
}
