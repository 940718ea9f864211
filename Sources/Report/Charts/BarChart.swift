import Foundation

/// A few bars from a zero baseline, side by side, each labelled underneath and with its value
/// on top: one metric of two versions, where a glance says which is larger and by how much.
public struct BarChart: Sendable {
    public var title: String
    public var yLabel: String
    public var bars: [(label: String, value: Double)]
    public var width = 200.0
    public var height = 200.0

    public init(title: String, yLabel: String, bars: [(label: String, value: Double)]) {
        self.title = title
        self.yLabel = yLabel
        self.bars = bars
    }

    /// The chart as an `<svg>` element; a bar with no finite value is left out but keeps its
    /// slot and label.
    public func svg() -> String {
        let (left, right, top, bottom) = (54.0, 10.0, 30.0, 34.0)
        let plotBottom = height - bottom
        let values = bars.map(\.value).filter(\.isFinite)
        let y = Scale(values: [0] + values, start: plotBottom, end: top, allowLog: false)
        let slot = (width - left - right) / Double(Swift.max(1, bars.count))
        var svg = SVG()
        svg.open(
            "svg",
            [
                ("xmlns", "http://www.w3.org/2000/svg"), ("viewBox", "0 0 \(SVG.number(width)) \(SVG.number(height))"),
                ("width", SVG.number(width)), ("height", SVG.number(height)), ("role", "img"), ("class", "chart bars"),
            ])
        svg.element("title", [], content: title)
        svg.element("desc", [], content: description)
        svg.element("text", [("x", "8"), ("y", "18"), ("class", "chart-title")], content: title)
        let ticks = y.ticks()
        for tick in ticks {
            let py = y.pixel(tick)
            svg.element(
                "line",
                [
                    ("x1", SVG.number(left)), ("x2", SVG.number(width - right)), ("y1", SVG.number(py)), ("y2", SVG.number(py)),
                    ("stroke", "#dddddd"),
                ])
            svg.element(
                "text", [("x", SVG.number(left - 5)), ("y", SVG.number(py + 4)), ("text-anchor", "end"), ("class", "tick")],
                content: y.label(tick, ticks: ticks))
        }
        let zero = y.pixel(0)
        for (index, bar) in bars.enumerated() {
            let center = left + slot * (Double(index) + 0.5)
            if bar.value.isFinite {
                let top = y.pixel(bar.value)
                svg.open(
                    "rect",
                    [
                        ("x", SVG.number(center - slot * 0.3)), ("y", SVG.number(Swift.min(top, zero))), ("width", SVG.number(slot * 0.6)),
                        ("height", SVG.number(Swift.max(1, Swift.abs(zero - top)))), ("fill", Palette.color(index)),
                    ])
                svg.element("title", [], content: "\(bar.label): \(String(format: "%.4g", bar.value))")
                svg.close("rect")
                svg.element(
                    "text",
                    [("x", SVG.number(center)), ("y", SVG.number(Swift.min(top, zero) - 3)), ("text-anchor", "middle"), ("class", "tick")],
                    content: String(format: "%.4g", bar.value))
            }
            svg.element(
                "text", [("x", SVG.number(center)), ("y", SVG.number(plotBottom + 14)), ("text-anchor", "middle"), ("class", "tick")],
                content: bar.label)
        }
        svg.element(
            "line",
            [
                ("x1", SVG.number(left)), ("x2", SVG.number(width - right)), ("y1", SVG.number(zero)), ("y2", SVG.number(zero)),
                ("stroke", "#000"),
            ])
        svg.element(
            "text",
            [
                ("x", "12"), ("y", SVG.number((top + plotBottom) / 2)), ("text-anchor", "middle"),
                ("transform", "rotate(-90 12 \(SVG.number((top + plotBottom) / 2)))"), ("class", "axis-label"),
            ], content: yLabel)
        svg.close("svg")
        return svg.text
    }

    public var description: String {
        "\(title). " + bars.map { "\($0.label): \($0.value.isFinite ? String(format: "%.4g", $0.value) : "none")" }.joined(separator: ", ")
            + "."
    }
}
