import Foundation

/// A chart of one or more series of (x, y) points, drawn as lines with a dot per point:
/// a title, both axes labelled (with units), ticks at round numbers, a legend when there is
/// more than one series, optional shaded spans of x (e.g. who held production), and a text
/// alternative (`<title>` and `<desc>`) for screen readers and for the page without pictures.
public struct LineChart: Sendable {
    /// One named series; points with a non-finite y are left out (gaps in the line).
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]

        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    /// A shaded band over x from `from` to `to`, labelled.
    public struct Span: Sendable {
        public var from: Double
        public var to: Double
        public var label: String

        public init(from: Double, to: Double, label: String) {
            self.from = from
            self.to = to
            self.label = label
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var spans: [Span] = []
    /// Labels for x ticks at given values (version names), instead of numbers.
    public var xTickLabels: [(x: Double, label: String)]?
    public var width = 480.0
    public var height = 260.0
    public var allowLogY = true

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    static let margin = (left: 64.0, right: 16.0, top: 30.0, bottom: 46.0)

    /// The chart as an `<svg>` element.
    public func svg() -> String {
        let m = Self.margin
        let legendRows = series.count > 1 ? series.count : 0
        let plotBottom = height - m.bottom
        let allX = series.flatMap { $0.points.map(\.x) } + spans.flatMap { [$0.from, $0.to] }
        let allY = series.flatMap { $0.points.map(\.y) }
        let x = Scale(values: allX, start: m.left, end: width - m.right - (legendRows > 0 ? 110 : 0), allowLog: false)
        let y = Scale(values: allY, start: plotBottom, end: m.top, allowLog: allowLogY)
        var svg = SVG()
        svg.open(
            "svg",
            [
                ("xmlns", "http://www.w3.org/2000/svg"), ("viewBox", "0 0 \(SVG.number(width)) \(SVG.number(height))"),
                ("width", SVG.number(width)), ("height", SVG.number(height)), ("role", "img"), ("class", "chart"),
            ])
        svg.element("title", [], content: title)
        svg.element("desc", [], content: description)
        svg.element("text", [("x", SVG.number(m.left)), ("y", "18"), ("class", "chart-title")], content: title)
        for (index, span) in spans.enumerated() {
            let left = x.pixel(span.from)
            let right = x.pixel(span.to)
            svg.element(
                "rect",
                [
                    ("x", SVG.number(Swift.min(left, right))), ("y", SVG.number(m.top)),
                    ("width", SVG.number(Swift.max(2, Swift.abs(right - left)))), ("height", SVG.number(plotBottom - m.top)),
                    ("fill", "#999999"), ("fill-opacity", index % 2 == 0 ? "0.18" : "0.1"), ("class", "span"),
                ])
            svg.element(
                "text", [("x", SVG.number(Swift.min(left, right) + 3)), ("y", SVG.number(m.top + 11)), ("class", "span-label")],
                content: span.label)
        }
        // Axes, ticks and grid lines.
        let yTicks = y.ticks()
        for tick in yTicks {
            let py = y.pixel(tick)
            svg.element(
                "line",
                [
                    ("x1", SVG.number(m.left)), ("x2", SVG.number(x.end)), ("y1", SVG.number(py)), ("y2", SVG.number(py)),
                    ("stroke", "#dddddd"),
                ])
            svg.element(
                "text", [("x", SVG.number(m.left - 6)), ("y", SVG.number(py + 4)), ("text-anchor", "end"), ("class", "tick")],
                content: y.label(tick, ticks: yTicks))
        }
        let xTicks: [(Double, String)] =
            xTickLabels.map { $0.map { ($0.x, $0.label) } } ?? x.ticks().map { tick in (tick, x.label(tick, ticks: x.ticks())) }
        for (value, label) in Self.thinned(xTicks, room: x.end - x.start) {
            let px = x.pixel(value)
            svg.element(
                "text", [("x", SVG.number(px)), ("y", SVG.number(plotBottom + 16)), ("text-anchor", "middle"), ("class", "tick")],
                content: label)
        }
        svg.element(
            "line",
            [
                ("x1", SVG.number(m.left)), ("x2", SVG.number(x.end)), ("y1", SVG.number(plotBottom)), ("y2", SVG.number(plotBottom)),
                ("stroke", "#000"),
            ])
        svg.element(
            "line",
            [
                ("x1", SVG.number(m.left)), ("x2", SVG.number(m.left)), ("y1", SVG.number(m.top)), ("y2", SVG.number(plotBottom)),
                ("stroke", "#000"),
            ])
        svg.element(
            "text",
            [("x", SVG.number((m.left + x.end) / 2)), ("y", SVG.number(height - 8)), ("text-anchor", "middle"), ("class", "axis-label")],
            content: xLabel)
        svg.element(
            "text",
            [
                ("x", "14"), ("y", SVG.number((m.top + plotBottom) / 2)), ("text-anchor", "middle"),
                ("transform", "rotate(-90 14 \(SVG.number((m.top + plotBottom) / 2)))"), ("class", "axis-label"),
            ], content: yLabel + (y.kind == .logarithmic ? " (log scale)" : ""))
        // The series: a line through the finite points, a dot with a tooltip on each.
        for (index, one) in series.enumerated() {
            let color = Palette.color(index)
            let points = one.points.filter { $0.x.isFinite && $0.y.isFinite && (y.kind == .linear || $0.y > 0) }
            if points.count > 1 {
                svg.element(
                    "polyline",
                    [
                        ("points", points.map { "\(SVG.number(x.pixel($0.x))),\(SVG.number(y.pixel($0.y)))" }.joined(separator: " ")),
                        ("fill", "none"), ("stroke", color), ("stroke-width", "2"),
                    ])
            }
            for point in points {
                svg.open(
                    "circle", [("cx", SVG.number(x.pixel(point.x))), ("cy", SVG.number(y.pixel(point.y))), ("r", "3"), ("fill", color)])
                svg.element("title", [], content: "\(one.name): \(String(format: "%.4g", point.y))")
                svg.close("circle")
            }
            if series.count > 1 {
                let ly = m.top + 14 * Double(index) + 4
                svg.element(
                    "rect", [("x", SVG.number(x.end + 12)), ("y", SVG.number(ly - 8)), ("width", "10"), ("height", "10"), ("fill", color)])
                svg.element("text", [("x", SVG.number(x.end + 26)), ("y", SVG.number(ly + 1)), ("class", "legend")], content: one.name)
            }
        }
        svg.close("svg")
        return svg.text
    }

    /// What the chart shows, in words: each series' first and last value and its range.
    public var description: String {
        let parts = series.map { one -> String in
            let values = one.points.map(\.y).filter(\.isFinite)
            guard let first = values.first, let last = values.last, let low = values.min(), let high = values.max() else {
                return "\(one.name): no values"
            }
            return
                "\(one.name): \(values.count) points from \(String(format: "%.4g", first)) to \(String(format: "%.4g", last)) (range \(String(format: "%.4g", low))–\(String(format: "%.4g", high)))"
        }
        return "\(title). \(yLabel) against \(xLabel). " + parts.joined(separator: "; ") + "."
    }

    /// At most one tick label per 40 pixels, always the first and the last.
    static func thinned(_ ticks: [(Double, String)], room: Double) -> [(Double, String)] {
        let most = Swift.max(2, Int(room / 40))
        guard ticks.count > most else { return ticks }
        let stride = Int((Double(ticks.count) / Double(most)).rounded(.up))
        return ticks.enumerated().filter { $0.offset % stride == 0 || $0.offset == ticks.count - 1 }.map(\.element)
    }
}
