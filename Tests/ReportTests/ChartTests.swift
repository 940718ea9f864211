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

    func testAnExactDomainKeepsItsEndsAndPutsTicksInside() {
        let scale = Scale(domain: 0.5...10.5, start: 0, end: 100)
        XCTAssertEqual([scale.lower, scale.upper], [0.5, 10.5])
        XCTAssertEqual(scale.pixel(0.5), 0, accuracy: 1e-9)
        XCTAssertEqual(scale.pixel(10.5), 100, accuracy: 1e-9)
        XCTAssertEqual(scale.ticks(), [2, 4, 6, 8, 10])
        var share = LineChart(title: "s", xLabel: "run", yLabel: "share", series: [LineChart.Series(name: "s", points: [(1, 1)])])
        share.yDomain = 0...1
        share.xTickLabels = [(1, "run 1")]
        let svg = share.svg()
        XCTAssertTrue(svg.contains(">0.0</text>") && svg.contains(">1.0</text>") && !svg.contains(">1.2</text>"), "a share from 0 to 1")
        let point = Scale(domain: 3...3, start: 0, end: 10)
        XCTAssertLessThan(point.lower, 3, "an empty domain widens as one value does")
    }

    func testSeriesPastThePaletteAreDashedAndScattersOfManyPointsHaveNoTooltips() {
        let many = (0..<9).map { index in
            LineChart.Series(name: "v\(index)", points: [(1, Double(index)), (2, Double(index) + 1)], style: .line)
        }
        let svg = LineChart(title: "loss", xLabel: "epoch", yLabel: "loss", series: many).svg()
        XCTAssertEqual(svg.components(separatedBy: "stroke-dasharray=\"7 3\"").count - 1, 2, "the 8th and 9th lines are dashed")
        XCTAssertFalse(svg.contains("<circle"), "lines alone: no dots")
        let scatter = LineChart(
            title: "p", xLabel: "actual", yLabel: "predicted",
            series: [LineChart.Series(name: "rows", points: (0..<1000).map { (Double($0), Double($0)) }, style: .dots)]
        ).svg()
        XCTAssertEqual(scatter.components(separatedBy: "<circle").count - 1, 1000)
        XCTAssertFalse(scatter.contains("<title>rows:"), "no tooltip per dot past the limit")
        XCTAssertLessThan(scatter.utf8.count, 80_000, "a thousand dots stay small")
    }

    func testTheHeatmapColoursByValueMarksMissingCellsAndSaysWhatItShows() {
        var chart = Heatmap(
            title: "Relative change", xLabel: "version step", yLabel: "tensor", valueLabel: "relative L2 change",
            rowLabels: ["layer.0.weight", "layer.0.bias", "head"], columnLabels: ["v1→v2", "v2→v3"],
            values: [[0.5, 0.001], [0, nil], [0.0001, 0.02]])
        chart.missingText = "added"
        let svg = chart.svg()
        XCTAssertTrue(svg.contains("<title>Relative change</title>"))
        XCTAssertTrue(svg.contains(">relative L2 change (log)</text>"), "four decades: a logarithmic colour scale")
        XCTAssertTrue(svg.contains("<title>layer.0.bias · v2→v3: added</title>"), "a missing cell says why")
        XCTAssertTrue(svg.contains("fill=\"\(Heatmap.zeroColor)\""), "zero is pale")
        XCTAssertTrue(svg.contains("fill=\"\(Heatmap.color(0))\""), "the smallest value (0.0001, a decade) at the bottom of the ramp")
        XCTAssertTrue(svg.contains("fill=\"\(Heatmap.color((log10(0.5) + 4) / 4))\""), "0.5 in the top decade, by its logarithm")
        XCTAssertTrue(chart.description.contains("largest: layer.0.weight at v1→v2 0.5"), chart.description)
        XCTAssertEqual(Heatmap.color(0), "#440154")
        XCTAssertEqual(Heatmap.color(1), "#fde725")
        XCTAssertEqual(Heatmap.color(.nan), "#440154")

        var confusion = Heatmap(
            title: "Confusion matrix", xLabel: "predicted class", yLabel: "true class", valueLabel: "rows",
            rowLabels: ["no", "yes"], columnLabels: ["no", "yes"], values: [[63, 4], [7, 46]])
        confusion.showValues = true
        confusion.allowLog = false
        let matrix = confusion.svg()
        for count in ["63", "4", "7", "46"] { XCTAssertTrue(matrix.contains(">\(count)</text>"), count) }
        XCTAssertTrue(matrix.contains("class=\"cell light\">4</text>"), "light text on a dark cell")
        XCTAssertTrue(matrix.contains("class=\"cell\">63</text>"), "dark text on a light cell")
        XCTAssertFalse(matrix.contains("(log)"))

        // A few hundred tensors: rows get thin, labels thinned, the chart stays on a screen or two.
        let names = (0..<300).map { "blocks.\($0 / 6).w\($0 % 6)" }
        let big = Heatmap(
            title: "t", xLabel: "step", yLabel: "tensor", valueLabel: "change", rowLabels: names, columnLabels: ["a", "b"],
            values: names.indices.map { [Double($0) / 300, 0.5] }
        ).svg()
        let height = Double(big.split(separator: "height=\"")[1].prefix { $0 != "\"" }) ?? 0
        XCTAssertLessThan(height, 1100)
        XCTAssertEqual(big.components(separatedBy: "<rect").count - 1 >= 600, true, "a cell per tensor and step")
        XCTAssertLessThan(big.components(separatedBy: "class=\"tick\">blocks").count - 1, 300, "not every row labelled")
        XCTAssertTrue(big.contains("<title>blocks.49.w5 · b: 0.5</title>"), "every cell has its tooltip")
    }

    func testTheTimelineDrawsHoldingsAndMarksAndDescribesThem() {
        let timeline = Timeline(
            title: "Who held each stage", xLabel: "stage events", lanes: ["production", "staging"],
            bars: [
                Timeline.Bar(lane: 0, from: 0, to: 2, label: "v1.0.0", colorIndex: 0, current: false),
                Timeline.Bar(lane: 0, from: 2, to: 4, label: "v2.0.0", colorIndex: 1, current: true),
                Timeline.Bar(lane: 1, from: 1, to: 3, label: "v2.0.0", colorIndex: 1, current: false),
            ],
            marks: [
                Timeline.Mark(lane: 1, at: 1, kind: .override, text: "v2.0.0: hotfix"),
                Timeline.Mark(lane: 1, at: 3, kind: .demotion, text: "v2.0.0 left staging"),
            ],
            xTickLabels: [(0, "10:00"), (1, "10:05"), (2, "11:00"), (3, "12:00")])
        let svg = timeline.svg()
        XCTAssertTrue(svg.contains("<title>production: v2.0.0 (holds it now)</title>"))
        XCTAssertTrue(svg.contains("<title>gate override: v2.0.0: hotfix</title>"))
        XCTAssertTrue(svg.contains(">gate override</text>") && svg.contains(">demotion</text>"), "a legend of the marks present")
        XCTAssertFalse(svg.contains(">rollback</text>"), "no legend entry for a mark that is not there")
        XCTAssertTrue(svg.contains(">10:05</text>"))
        XCTAssertEqual(
            timeline.description,
            "Who held each stage. production: v1.0.0 → v2.0.0; staging: v2.0.0. gate override on staging (v2.0.0: hotfix); demotion on staging (v2.0.0 left staging)."
        )
    }

    func testBarsStartAtZeroAndAMissingValueKeepsItsSlot() {
        let chart = BarChart(title: "holdout: r2", yLabel: "r2", bars: [("v1", -0.2), ("v2", 0.9), ("v3", .nan)])
        let svg = chart.svg()
        XCTAssertTrue(svg.contains(">v3</text>"), "the slot is labelled")
        XCTAssertEqual(svg.components(separatedBy: "<title>v").count - 1, 2, "two bars drawn")
        XCTAssertTrue(svg.contains(">-0.2</text>") && svg.contains(">0.9</text>"), "values on the bars")
        XCTAssertEqual(chart.description, "holdout: r2. v1: -0.2, v2: 0.9, v3: none.")
    }
}
