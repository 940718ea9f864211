import Foundation

/// A deterministic xoshiro256** generator seeded through SplitMix64.
///
/// Its output depends only on the seed, never on the Swift version or platform,
/// so splits and synthetic data are reproducible across releases.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    public init(seed: UInt64) {
        // SplitMix64 spreads any seed (even 0) into a non-zero xoshiro state.
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix()
        s1 = splitMix()
        s2 = splitMix()
        s3 = splitMix()
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    /// A uniform integer in `0..<bound` (Lemire's method with rejection).
    /// Written out here because the standard library's bounded helpers may change algorithm.
    public mutating func nextInt(below bound: UInt64) -> UInt64 {
        precondition(bound > 0, "bound must be positive")
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold {
                product = next().multipliedFullWidth(by: bound)
            }
        }
        return product.high
    }

    /// A uniform Double in [0, 1) with 53 random bits.
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal sample (Box–Muller), handy for synthetic data.
    public mutating func nextGaussian() -> Double {
        // 1 - u lies in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - nextDouble()
        let u2 = nextDouble()
        return (-2.0 * log(u1)).squareRoot() * cos(2.0 * Double.pi * u2)
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}

/// A reproducible Fisher–Yates permutation of `0..<count`.
public func seededPermutation(count: Int, seed: UInt64) -> [Int] {
    var generator = SeededGenerator(seed: seed)
    var indices = Array(0..<count)
    var i = count - 1
    while i > 0 {
        let j = Int(generator.nextInt(below: UInt64(i + 1)))
        indices.swapAt(i, j)
        i -= 1
    }
    return indices
}

/// Splits `data` into train and test parts; the same seed always gives the same split.
///
/// The test part has `round(count * testFraction)` rows, kept between 1 and `count - 1`
/// when `testFraction > 0` so both parts are non-empty whenever there are at least 2 rows.
/// Rows keep their original order within each part.
public func split(_ data: Dataset, testFraction: Double, seed: UInt64) throws -> (train: Dataset, test: Dataset) {
    let (train, test) = try splitIndices(count: data.count, testFraction: testFraction, seed: seed)
    return (train: data.subset(train), test: data.subset(test))
}

/// The row indices `split` puts in each part, each in ascending order.
public func splitIndices(count n: Int, testFraction: Double, seed: UInt64) throws -> (train: [Int], test: [Int]) {
    guard testFraction.isFinite, testFraction >= 0, testFraction < 1 else {
        throw LearningError.invalidTestFraction(testFraction)
    }
    var testCount = 0
    if testFraction > 0 {
        testCount = Int((Double(n) * testFraction).rounded(.toNearestOrAwayFromZero))
        testCount = max(testCount, 1)
        testCount = min(testCount, n - 1)
        testCount = max(testCount, 0)
    }
    if n - testCount <= 0 {
        throw LearningError.emptyTrainingSet(rows: n, testFraction: testFraction)
    }
    let permutation = seededPermutation(count: n, seed: seed)
    return (train: permutation[testCount...].sorted(), test: permutation[..<testCount].sorted())
}
