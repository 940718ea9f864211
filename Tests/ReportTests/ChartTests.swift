import Foundation
import Report
import XCTest

/// The chart module's scales and ticks, and what its SVG says.
final class ChartTests: XCTestCase {
    func testLinearTicksAreRoundNumbersThatCoverTheData() {
        let scale = Scale(values: [0.83, 0.91, 0.87], start: 0, end: 100)
        XCTAssertEqual(scale.kind, .linear)
        let ticks = scale.ticks()
        XCTAssertEqual(ticks, [0.82, 0.84, 0.86, 0.88, 0.9, 0.92])
        XCTAssertLessThanOrEqual(scale.lower, 0.83)
        XCTAssertGreaterThanOrEqual(scale.upper, 0.91)
        XCTAssertEqual(ticks.map { scale.label($0, ticks: ticks) }, ["0.82", "0.84", "0.86", "0.88", "0.90", "0.92"])
        let wide = Scale(values: [3, 97], start: 0, end: 100)
        XCTAssertEqual(wide.ticks(), [0, 20, 40, 60, 80, 100])
        XCTAssertEqual(wide.pixel(50), 50, accuracy: 1e-9)
        // No float residue: 0.1 + 0.2 is not 0.3, k·step is.
        let tenths = Scale(values: [0, 0.5], start: 0, end: 1)
        XCTAssertEqual(tenths.ticks(), [0, 0.1, 0.2, 0.3, 0.4, 0.5])
    }

    func testValuesSpanningDecadesGetALogarithmicScale() {
        let scale = Scale(values: [0.002, 0.5, 30], start: 200, end: 0)
        XCTAssertEqual(scale.kind, .logarithmic)
        XCTAssertEqual(scale.ticks(), [0.001, 0.01, 0.1, 1, 10, 100])
        XCTAssertEqual(scale.pixel(0.001), 200, accuracy: 1e-9)
        XCTAssertEqual(scale.pixel(100), 0, accuracy: 1e-9)
        XCTAssertEqual(scale.pixel(1), 80, accuracy: 1e-9)
        XCTAssertEqual(scale.label(1000, ticks: []), "1k")
        XCTAssertEqual(Scale(values: [0.002, 0.5, 30], start: 0, end: 1, allowLog: false).kind, .linear)
        XCTAssertEqual(Scale(values: [-1, 500], start: 0, end: 1).kind, .linear, "a negative value: linear")
    }

    func testOnePointEqualValuesNoValuesAndNaN() {
        let one = Scale(values: [0.75], start: 0, end: 10)
        XCTAssertLessThan(one.lower, 0.75)
        XCTAssertGreaterThan(one.upper, 0.75)
        XCTAssertGreaterThanOrEqual(one.ticks().count, 2)
        let equal = Scale(values: [4, 4, 4], start: 0, end: 10)
        XCTAssertLessThan(equal.lower, 4)
        XCTAssertGreaterThan(equal.upper, 4)
        let zero = Scale(values: [0, 0], start: 0, end: 10)
        XCTAssertEqual(zero.lower, -1)
        XCTAssertEqual(zero.upper, 1)
        let empty = Scale(values: [], start: 0, end: 10)
        XCTAssertEqual([empty.lower, empty.upper], [0, 1])
        let gaps = Scale(values: [.nan, 2, .infinity, 8], start: 0, end: 10)
        XCTAssertEqual(gaps.ticks(), [2, 4, 6, 8])
        XCTAssertTrue(gaps.pixel(.nan).isNaN)
    }

    func testNiceStepsAreOneTwoOrFiveTimesAPowerOfTen() {
        XCTAssertEqual(Scale.niceStep(0.013), 0.01, accuracy: 1e-15)
        XCTAssertEqual(Scale.niceStep(0.02), 0.02, accuracy: 1e-15)
        XCTAssertEqual(Scale.niceStep(3), 2)
        XCTAssertEqual(Scale.niceStep(4), 5)
        XCTAssertEqual(Scale.niceStep(8), 10)
        XCTAssertEqual(Scale.niceStep(100), 100)
        XCTAssertEqual(Scale.niceStep(.nan), 1)
    }

    func testTheChartHasItsTitleAxesLegendAndTextAlternative() {
        var chart = LineChart(
            title: "rmse across versions", xLabel: "version", yLabel: "rmse (price units)",
            series: [
                LineChart.Series(name: "holdout", points: [(1, 0.31), (2, 0.29), (3, .nan), (4, 0.27)]),
                LineChart.Series(name: "eval <Q4 & Q1>", points: [(2, 0.35), (4, 0.3)]),
            ])
        chart.spans = [LineChart.Span(from: 2, to: 4, label: "production")]
        chart.xTickLabels = [(1, "v1"), (2, "v2"), (3, "v3"), (4, "v4")]
        let svg = chart.svg()
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""), svg)
        XCTAssertTrue(svg.contains("<title>rmse across versions</title>"))
        XCTAssertTrue(svg.contains("<desc>rmse across versions. rmse (price units) against version. holdout: 3 points"), svg)
        XCTAssertTrue(svg.contains(">version</text>") && svg.contains(">rmse (price units)</text>"))
        XCTAssertTrue(svg.contains(">v1</text>") && svg.contains(">v4</text>"))
        XCTAssertTrue(svg.contains("eval &lt;Q4 &amp; Q1&gt;"), "text is escaped")
        XCTAssertFalse(svg.contains("<Q4"))
        XCTAssertTrue(svg.contains("class=\"legend\""), "two series: a legend")
        XCTAssertTrue(svg.contains(Palette.colors[0]) && svg.contains(Palette.colors[1]))
        XCTAssertTrue(svg.contains(">production</text>"))
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 5, "a dot per finite point")
        XCTAssertFalse(svg.contains("http://") && svg.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http"))
        let single = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [LineChart.Series(name: "only", points: [(1, 1)])]).svg()
        XCTAssertFalse(single.contains("class=\"legend\""), "one series: no legend")
    }
}
