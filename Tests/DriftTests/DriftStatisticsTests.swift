import Drift
import Foundation
import ModelFormat
import XCTest

/// The statistics against values known from their definitions (and scipy's, noted), and the
/// sketch against the data it summarises.
final class DriftStatisticsTests: XCTestCase {
    func testQuantilesAreNumpysLinearOnes() {
        let sorted: [Double] = [1, 2, 4, 8]
        // numpy.quantile([1, 2, 4, 8], [0, 0.25, 0.5, 0.9, 1]) == [1, 1.75, 3, 6.8, 8]
        let expected: [Double] = [1, 1.75, 3, 6.8, 8]
        for (p, value) in zip([0, 0.25, 0.5, 0.9, 1], expected) {
            XCTAssertEqual(ProfileBuilder.quantile(sorted: sorted, p), value, accuracy: 1e-12, "p \(p)")
        }
    }

    func testTheSketchCountsEveryValueOnceAndItsBinsHoldTenthsEach() throws {
        var random = SystemRandomNumberGenerator()
        let values = (0..<10_000).map { _ in Double(Int.random(in: 0..<1000, using: &random)) / 7 }
        let profile = ProfileBuilder.numeric(name: "x", values: values, missing: 3)
        let sketch = try XCTUnwrap(profile.numeric)
        XCTAssertEqual(profile.count, 10_000)
        XCTAssertEqual(profile.missing, 3)
        XCTAssertEqual(sketch.quantiles.count, 101)
        XCTAssertEqual(sketch.at.reduce(0, +) + sketch.between.reduce(0, +), 10_000)
        XCTAssertTrue(zip(sketch.points, sketch.points.dropFirst()).allSatisfy { $0 < $1 })
        XCTAssertEqual(sketch.psiShares.reduce(0, +), 1, accuracy: 1e-12)
        for share in sketch.psiShares { XCTAssertEqual(share, 0.1, accuracy: 0.01) }
        XCTAssertEqual(sketch.mean, values.reduce(0, +) / 10_000, accuracy: 1e-9)
        XCTAssertNil(sketch.values, "a thousand distinct values are not listed")
        let few = try XCTUnwrap(ProfileBuilder.numeric(name: "k", values: [1, 1, 2, 3, 3, 3], missing: 0).numeric)
        XCTAssertEqual(few.values?.map(\.value), [1, 2, 3])
        XCTAssertEqual(few.values?.map(\.count), [2, 1, 3])
    }

    func testDataComparedWithItselfHasNoDrift() throws {
        let values = (0..<5000).map { sin(Double($0)) * 3 + Double($0 % 17) }
        let profile = ProfileBuilder.numeric(name: "x", values: values, missing: 0)
        var observer = NumericObserver(sketch: try XCTUnwrap(profile.numeric))
        for value in values { observer.observe(value) }
        let drift = try XCTUnwrap(Comparison.drift(of: profile, .numeric(observer), options: DriftOptions()))
        XCTAssertEqual(drift.ks?.statistic ?? 1, 0, accuracy: 1e-12)
        XCTAssertEqual(drift.wasserstein ?? 1, 0, accuracy: 1e-12)
        XCTAssertEqual(drift.psi, 0, accuracy: 1e-12)
        XCTAssertEqual(drift.jensenShannon, 0, accuracy: 1e-6)
        XCTAssertEqual(drift.outOfRange ?? 1, 0)
        XCTAssertFalse(drift.drifted)
        XCTAssertEqual(drift.test, .wasserstein, "more than 1000 reference values: a distance decides")
    }

    func testAShiftOfHalfAStandardDeviationIsAWassersteinOfAboutAHalf() throws {
        // Uniform on [0, 1) (std 1/√12), current shifted by half a standard deviation.
        let n = 20_000
        let reference = (0..<n).map { (Double($0) + 0.5) / Double(n) }
        let std = 1 / 12.0.squareRoot()
        let profile = ProfileBuilder.numeric(name: "u", values: reference, missing: 0)
        var observer = NumericObserver(sketch: try XCTUnwrap(profile.numeric))
        for value in reference { observer.observe(value + std / 2) }
        let drift = try XCTUnwrap(Comparison.drift(of: profile, .numeric(observer), options: DriftOptions()))
        XCTAssertEqual(drift.wasserstein ?? 0, 0.5, accuracy: 0.001)
        // The exact KS statistic of the two samples is the shift itself: 0.2887.
        let ks = try XCTUnwrap(drift.ks)
        // … up to the grid of 20,000 values (1/20,000 apart).
        XCTAssertLessThanOrEqual(ks.statistic, std / 2 + 1e-4)
        XCTAssertGreaterThanOrEqual(ks.statistic + ks.bound, std / 2 - 1e-4)
        XCTAssertEqual(drift.outOfRange ?? 0, std / 2, accuracy: 0.001)
        XCTAssertTrue(drift.drifted)
    }

    func testMergingObserversIsObservingEverything() throws {
        let values = (0..<3000).map { Double(($0 * 7919) % 1000) / 10 }
        let profile = ProfileBuilder.numeric(name: "x", values: values, missing: 0)
        let sketch = try XCTUnwrap(profile.numeric)
        var whole = NumericObserver(sketch: sketch)
        var left = NumericObserver(sketch: sketch)
        var right = NumericObserver(sketch: sketch)
        for (index, value) in values.enumerated() {
            whole.observe(value * 1.1)
            if index % 3 == 0 { left.observe(value * 1.1) } else { right.observe(value * 1.1) }
        }
        left.merge(right)
        XCTAssertEqual(left.cells, whole.cells)
        XCTAssertEqual(left.psiCounts, whole.psiCounts)
        XCTAssertEqual(left.currentMean, whole.currentMean, accuracy: 1e-9)
        XCTAssertEqual(left.currentStd, whole.currentStd, accuracy: 1e-9)
    }

    func testDivergencesMatchTheirDefinitions() {
        XCTAssertEqual(Divergence.jensenShannon([1, 0], [0, 1]), log(2).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(Divergence.jensenShannon([0.2, 0.8], [0.2, 0.8]), 0, accuracy: 1e-12)
        // scipy.spatial.distance.jensenshannon([0.1, 0.4, 0.5], [0.3, 0.3, 0.4]) == 0.18035965602712561
        XCTAssertEqual(Divergence.jensenShannon([0.1, 0.4, 0.5], [0.3, 0.3, 0.4]), 0.180_359_656_027_125_61, accuracy: 1e-12)
        XCTAssertEqual(
            Divergence.psi(reference: [0.5, 0.5], current: [0.25, 0.75]), (0.25 - 0.5) * log(0.5) + (0.75 - 0.5) * log(1.5), accuracy: 1e-12
        )
        // An empty bin is floored at 0.0001, so PSI stays finite.
        XCTAssertEqual(
            Divergence.psi(reference: [1, 0], current: [0.5, 0.5]), (0.5 - 1) * log(0.5) + (0.5 - 0.0001) * log(0.5 / 0.0001),
            accuracy: 1e-12)
    }

    func testPValuesMatchTheirDistributions() {
        // scipy.stats.chi2.sf: sf(3.841458820694124, 1) == 0.05, sf(10, 4) == 0.040427681994512805,
        // sf(150, 120) == 0.0331...; the upper incomplete gamma by series and by continued fraction.
        XCTAssertEqual(SpecialFunctions.regularizedGammaQ(0.5, 3.841458820694124 / 2), 0.05, accuracy: 1e-12)
        XCTAssertEqual(SpecialFunctions.regularizedGammaQ(2, 5), 0.040_427_681_994_512_805, accuracy: 1e-12)
        XCTAssertEqual(SpecialFunctions.regularizedGammaQ(60, 75), 0.033_193, accuracy: 2e-4)
        let chi = Divergence.chiSquare(observed: [10, 20, 30], expected: [20, 20, 20])
        XCTAssertEqual(chi.statistic, 10, accuracy: 1e-12)
        XCTAssertEqual(chi.dof, 2)
        XCTAssertEqual(chi.pValue, exp(-5), accuracy: 1e-12, "χ² with 2 degrees of freedom: sf(x) = e^(-x/2)")
        // Kolmogorov's distribution: Q(1.358099) ≈ 0.05 (the classic 5% point), Q(1.627624) ≈ 0.01.
        XCTAssertEqual(SpecialFunctions.kolmogorovQ(1.358_099), 0.05, accuracy: 1e-5)
        XCTAssertEqual(SpecialFunctions.kolmogorovQ(1.627_624), 0.01, accuracy: 1e-5)
        XCTAssertEqual(SpecialFunctions.kolmogorovQ(0.1), 1)
        // scipy's large-sample p for D = 0.05, n = m = 1000: kstwo.sf(0.05, 500) == 0.15866260223815387.
        XCTAssertEqual(Divergence.ksPValue(0.05, 1000, 1000), 0.158_662_602_238_153_87, accuracy: 0.002)
    }

    func testCategoriesBeyondTheStoredOnesAndUnseenOnes() throws {
        var labels: [String] = []
        for k in 0..<60 { labels += Array(repeating: "c\(k)", count: 100 - k) }
        let profile = ProfileBuilder.categorical(name: "city", labels: labels, missing: 0)
        let counts = try XCTUnwrap(profile.categorical)
        XCTAssertEqual(counts.categories.count, 50)
        XCTAssertEqual(counts.categories.first?.label, "c0")
        XCTAssertEqual(counts.other, (50..<60).reduce(0) { $0 + 100 - $1 })
        XCTAssertEqual(counts.distinct, 60)
        var observer = CategoryObserver()
        for label in labels { observer.observe(label) }
        let same = try XCTUnwrap(Comparison.drift(of: profile, .categorical(observer), options: DriftOptions()))
        XCTAssertEqual(same.jensenShannon, 0, accuracy: 1e-9)
        XCTAssertEqual(same.unseenCount, 0, "values outside the top 50 go to the reference's other bin")

        let small = ProfileBuilder.categorical(name: "plan", labels: ["a", "a", "b"], missing: 0)
        var current = CategoryObserver()
        for label in ["a", "b", "z", "z"] { current.observe(label) }
        let drift = try XCTUnwrap(Comparison.drift(of: small, .categorical(current), options: DriftOptions()))
        XCTAssertEqual(drift.unseen, ["z"])
        XCTAssertEqual(drift.unseenShare ?? 0, 0.5, accuracy: 1e-12)
        XCTAssertEqual(drift.test, .chisquare, "three categories, a small reference")
        XCTAssertTrue(drift.drifted)
    }

    func testTwoCategoriesOnASmallReferenceTakeTheZTest() throws {
        let reference = ProfileBuilder.categorical(
            name: "flag", labels: Array(repeating: "y", count: 300) + Array(repeating: "n", count: 300), missing: 0)
        var current = CategoryObserver()
        for index in 0..<600 { current.observe(index % 3 == 0 ? "y" : "n") }
        let drift = try XCTUnwrap(Comparison.drift(of: reference, .categorical(current), options: DriftOptions()))
        XCTAssertEqual(drift.test, .ztest)
        // p1 = 0.5, p2 = 1/3, pooled 5/12: z = (1/6) / sqrt(5/12 · 7/12 · 2/600)
        let z = (1.0 / 6) / (5.0 / 12 * 7.0 / 12 * 2 / 600).squareRoot()
        XCTAssertEqual(abs(drift.zTest?.statistic ?? 0), z, accuracy: 1e-9, "the sign follows which category is first")
        XCTAssertEqual(drift.zTest?.pValue ?? 1, erfc(z / 2.0.squareRoot()), accuracy: 1e-12)
        XCTAssertTrue(drift.drifted)
    }

    func testTheReferenceFileRoundTripsAndRefusesInconsistentCounts() throws {
        let profile = ReferenceProfile(
            source: ReferenceProfile.Source(path: "train.csv", sha256: "ab", rows: 4, selection: "training rows"),
            columns: [
                ProfileBuilder.numeric(name: "x", values: [1, 2, 2, 5], missing: 1),
                ProfileBuilder.categorical(name: "c", labels: ["a", "b", "a"], missing: 1),
            ],
            predictions: ProfileBuilder.numeric(name: "prediction", values: [0.5, 1.5], missing: 0))
        let text = profile.yaml()
        XCTAssertEqual(try ReferenceProfile.parse(text), profile)
        let broken = text.replacingOccurrences(of: "at: [1, 2, 1]", with: "at: [1, 2, 2]")
        XCTAssertNotEqual(broken, text)
        XCTAssertThrowsError(try ReferenceProfile.parse(broken)) { error in
            XCTAssertTrue("\(error)".contains("must add up to count"), "\(error)")
        }
    }
}
