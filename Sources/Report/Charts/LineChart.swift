import Foundation

/// A chart of one or more series of (x, y) points, drawn as lines with a dot per point:
/// a title, both axes labelled (with units), ticks at round numbers, a legend when there is
/// more than one series, optional shaded spans of x (e.g. who held production), and a text
/// alternative (`<title>` and `<desc>`) for screen readers and for the page without pictures.
public struct LineChart: Sendable {
    /// One named series; points with a non-finite y are left out (gaps in the line).
    public struct Series: Sendable {
        /// How the points are drawn: joined and marked (values across versions), only
        /// marked (a scatter of samples), only joined (curves of many points), or joined by
        /// a dashed line (references such as y = x).
        public enum Style: Sendable {
            case lineAndDots, dots, line, dashed
        }

        public var name: String
        public var points: [(x: Double, y: Double)]
        public var style: Style

        public init(name: String, points: [(x: Double, y: Double)], style: Style = .lineAndDots) {
            self.name = name
            self.points = points
            self.style = style
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
    public var allowLogX = false
    /// The x axis over exactly this range instead of one fitted to the points.
    public var xDomain: ClosedRange<Double>?
    /// The y axis over exactly this range (a share runs from 0 to 1, whatever the points).
    public var yDomain: ClosedRange<Double>?

    /// Dots beyond this many in a series get no tooltip.
    static let tooltipLimit = 300

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
        let plotRight = width - m.right - (legendRows > 0 ? 110 : 0)
        let x =
            xDomain.map { Scale(domain: $0, start: m.left, end: plotRight) }
            ?? Scale(values: allX, start: m.left, end: plotRight, allowLog: allowLogX)
        let y =
            yDomain.map { Scale(domain: $0, start: plotBottom, end: m.top) }
            ?? Scale(values: allY, start: plotBottom, end: m.top, allowLog: allowLogY)
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
                "text",
                [
                    ("x", SVG.number(Swift.min(Swift.min(left, right) + 3, x.end - 6.5 * Double(span.label.count)))),
                    ("y", SVG.number(m.top + 11)), ("class", "span-label"),
                ],
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
            // Centred under its tick, unless that would run past the chart's edge.
            let px = x.pixel(value)
            let half = 3.25 * Double(label.count)
            let anchor = px + half > width ? "end" : px - half < 0 ? "start" : "middle"
            let tx = anchor == "end" ? width - 2 : anchor == "start" ? 2 : px
            svg.element(
                "text", [("x", SVG.number(tx)), ("y", SVG.number(plotBottom + 16)), ("text-anchor", anchor), ("class", "tick")],
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
            content: xLabel + (x.kind == .logarithmic ? " (log scale)" : ""))
        svg.element(
            "text",
            [
                ("x", "14"), ("y", SVG.number((m.top + plotBottom) / 2)), ("text-anchor", "middle"),
                ("transform", "rotate(-90 14 \(SVG.number((m.top + plotBottom) / 2)))"), ("class", "axis-label"),
            ], content: yLabel + (y.kind == .logarithmic ? " (log scale)" : ""))
        // The series: a line through the finite points, a dot on each; a tooltip per dot
        // while there are few enough to point at (a scatter of a thousand needs none, and
        // the page stays small).
        for (index, one) in series.enumerated() {
            let color = one.style == .dashed ? "#000000" : Palette.color(index)
            // Past the palette's seven colours, lines repeat a colour with a dash pattern.
            let pattern = one.style == .dashed ? "5 4" : index >= Palette.colors.count ? "7 3" : nil
            let points = one.points.filter {
                $0.x.isFinite && $0.y.isFinite && (y.kind == .linear || $0.y > 0) && (x.kind == .linear || $0.x > 0)
            }
            if points.count > 1, one.style != .dots {
                var attributes = [
                    ("points", points.map { "\(SVG.number(x.pixel($0.x))),\(SVG.number(y.pixel($0.y)))" }.joined(separator: " ")),
                    ("fill", "none"), ("stroke", color), ("stroke-width", one.style == .dashed ? "1" : "2"),
                ]
                if let pattern { attributes.append(("stroke-dasharray", pattern)) }
                svg.element("polyline", attributes)
            }
            // A line of hundreds of versions reads better without a dot on each.
            if one.style == .dots || (one.style == .lineAndDots && points.count <= Self.tooltipLimit) {
                let radius = one.style == .dots ? "2" : "3"
                let tooltips = points.count <= Self.tooltipLimit
                for point in points {
                    let attributes = [
                        ("cx", SVG.number(x.pixel(point.x))), ("cy", SVG.number(y.pixel(point.y))), ("r", radius), ("fill", color),
                    ]
                    if tooltips {
                        svg.open("circle", attributes + (one.style == .dots ? [("fill-opacity", "0.6")] : []))
                        svg.element("title", [], content: "\(one.name): \(String(format: "%.4g", point.y))")
                        svg.close("circle")
                    } else {
                        svg.element("circle", attributes + [("fill-opacity", "0.6")])
                    }
                }
            }
            if series.count > 1 {
                let ly = m.top + 14 * Double(index) + 4
                if let pattern {
                    svg.element(
                        "line",
                        [
                            ("x1", SVG.number(x.end + 10)), ("x2", SVG.number(x.end + 22)), ("y1", SVG.number(ly - 3)),
                            ("y2", SVG.number(ly - 3)), ("stroke", color), ("stroke-width", "2"),
                            ("stroke-dasharray", pattern == "5 4" ? "3 2" : "4 2"),
                        ])
                } else {
                    svg.element(
                        "rect",
                        [("x", SVG.number(x.end + 12)), ("y", SVG.number(ly - 8)), ("width", "10"), ("height", "10"), ("fill", color)])
                }
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

    /// Tick labels spaced so that none overlaps (at least 40 pixels, or the longest label's
    /// width), always the first and the last.
    static func thinned(_ ticks: [(Double, String)], room: Double) -> [(Double, String)] {
        let spacing = Swift.max(40, 6.5 * Double(ticks.map(\.1.count).max() ?? 0) + 10)
        let most = Swift.max(2, Int(room / spacing))
        guard ticks.count > most else { return ticks }
        let stride = Int((Double(ticks.count - 1) / Double(most - 1)).rounded(.up))
        // Every stride-th from the first; the last replaces the one before it when they would touch.
        var kept = ticks.enumerated().filter { $0.offset % stride == 0 }.map(\.element)
        if let last = ticks.last, kept.last?.0 != last.0 {
            if (ticks.count - 1) % stride < stride / 2 + 1 { kept.removeLast() }
            kept.append(last)
        }
        return kept
    }
}
