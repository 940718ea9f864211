import Foundation

/// Who held each stage when: a lane per stage, a bar per holding (coloured by version and
/// labelled with it), and marks where something other than a plain promotion happened — a
/// rollback, a promotion that overrode a failed gate, a demotion. The x axis counts stage
/// events in order (labelled with their dates), so moves made minutes apart stay as readable
/// as moves made months apart.
public struct Timeline: Sendable {
    public struct Bar: Sendable {
        public var lane: Int
        public var from: Double
        public var to: Double
        public var label: String
        public var colorIndex: Int
        /// Still holding at the end of the chart.
        public var current: Bool

        public init(lane: Int, from: Double, to: Double, label: String, colorIndex: Int, current: Bool) {
            self.lane = lane
            self.from = from
            self.to = to
            self.label = label
            self.colorIndex = colorIndex
            self.current = current
        }
    }

    public struct Mark: Sendable {
        public enum Kind: String, Sendable, CaseIterable {
            case rollback
            case override = "gate override"
            case demotion
        }

        public var lane: Int
        public var at: Double
        public var kind: Kind
        public var text: String

        public init(lane: Int, at: Double, kind: Kind, text: String) {
            self.lane = lane
            self.at = at
            self.kind = kind
            self.text = text
        }
    }

    public var title: String
    public var xLabel: String
    public var lanes: [String]
    public var bars: [Bar]
    public var marks: [Mark]
    /// The events' labels (dates) at their positions.
    public var xTickLabels: [(x: Double, label: String)]
    public var width = 960.0

    public init(title: String, xLabel: String, lanes: [String], bars: [Bar], marks: [Mark], xTickLabels: [(x: Double, label: String)]) {
        self.title = title
        self.xLabel = xLabel
        self.lanes = lanes
        self.bars = bars
        self.marks = marks
        self.xTickLabels = xTickLabels
    }

    static let laneHeight = 30.0
    static let markColors: [Mark.Kind: String] = [.rollback: "#D55E00", .override: "#CC79A7", .demotion: "#000000"]

    /// The chart as an `<svg>` element.
    public func svg() -> String {
        let (left, right, top) = (Swift.min(180, Swift.max(70, 7 * Double(lanes.map(\.count).max() ?? 0) + 20)), 20.0, 30.0)
        let plotBottom = top + Self.laneHeight * Double(lanes.count)
        let kinds = Mark.Kind.allCases.filter { kind in marks.contains { $0.kind == kind } }
        let height = plotBottom + 44 + (kinds.isEmpty ? 0 : 20)
        let end = (bars.map(\.to) + marks.map(\.at) + xTickLabels.map(\.x)).max() ?? 1
        // Exactly 0…end, not widened to round numbers: the axis counts events.
        let pixel = { (value: Double) in left + value / Swift.max(1, end) * (width - right - left) }

        var svg = SVG()
        svg.open(
            "svg",
            [
                ("xmlns", "http://www.w3.org/2000/svg"), ("viewBox", "0 0 \(SVG.number(width)) \(SVG.number(height))"),
                ("width", SVG.number(width)), ("height", SVG.number(height)), ("role", "img"), ("class", "chart timeline"),
            ])
        svg.element("title", [], content: title)
        svg.element("desc", [], content: description)
        svg.element("text", [("x", SVG.number(left)), ("y", "18"), ("class", "chart-title")], content: title)
        for (index, lane) in lanes.enumerated() {
            let y = top + Self.laneHeight * Double(index)
            svg.element(
                "rect",
                [
                    ("x", SVG.number(left)), ("y", SVG.number(y)), ("width", SVG.number(width - right - left)),
                    ("height", SVG.number(Self.laneHeight)), ("fill", index % 2 == 0 ? "#fafafa" : "#f2f2f2"),
                ])
            svg.element(
                "text",
                [("x", SVG.number(left - 6)), ("y", SVG.number(y + Self.laneHeight / 2 + 4)), ("text-anchor", "end"), ("class", "tick")],
                content: lane)
        }
        for bar in bars {
            let y = top + Self.laneHeight * Double(bar.lane) + 5
            let (x0, x1) = (pixel(bar.from), pixel(bar.to))
            let color = Palette.color(bar.colorIndex)
            svg.open(
                "rect",
                [
                    ("x", SVG.number(x0)), ("y", SVG.number(y)), ("width", SVG.number(Swift.max(2, x1 - x0 - 1))),
                    ("height", SVG.number(Self.laneHeight - 10)), ("fill", color), ("fill-opacity", "0.35"), ("stroke", color),
                    ("class", "holding"),
                ])
            svg.element("title", [], content: "\(lanes[bar.lane]): \(bar.label)" + (bar.current ? " (holds it now)" : ""))
            svg.close("rect")
            svg.element(
                "rect",
                [
                    ("x", SVG.number(x0)), ("y", SVG.number(y)), ("width", "3"), ("height", SVG.number(Self.laneHeight - 10)),
                    ("fill", color),
                ])
            // The version's name inside its bar when there is room for it.
            if x1 - x0 >= 7 * Double(bar.label.count) + 8 {
                svg.element(
                    "text", [("x", SVG.number(x0 + 6)), ("y", SVG.number(y + Self.laneHeight / 2)), ("class", "bar-label")],
                    content: bar.label)
            }
        }
        for mark in marks {
            let cx = pixel(mark.at)
            let cy = top + Self.laneHeight * Double(mark.lane) + Self.laneHeight / 2
            svg.open("g", [("class", "mark")])
            svg.element("title", [], content: "\(mark.kind.rawValue): \(mark.text)")
            svg.element("path", [("d", Self.shape(mark.kind, cx, cy)), ("fill", Self.markColors[mark.kind] ?? "#000000")])
            svg.close("g")
        }
        // The event axis: dates at events, thinned to fit.
        svg.element(
            "line",
            [
                ("x1", SVG.number(left)), ("x2", SVG.number(width - right)), ("y1", SVG.number(plotBottom)), ("y2", SVG.number(plotBottom)),
                ("stroke", "#000"),
            ])
        for (value, label) in LineChart.thinned(xTickLabels.map { ($0.x, $0.label) }, room: (width - right - left) / 2.5) {
            svg.element(
                "text",
                [("x", SVG.number(pixel(value))), ("y", SVG.number(plotBottom + 14)), ("text-anchor", "middle"), ("class", "tick")],
                content: label)
        }
        svg.element(
            "text",
            [
                ("x", SVG.number((left + width - right) / 2)), ("y", SVG.number(plotBottom + 34)), ("text-anchor", "middle"),
                ("class", "axis-label"),
            ],
            content: xLabel)
        // The marks' legend.
        var legendX = left
        for kind in kinds {
            let y = plotBottom + 52
            svg.element("path", [("d", Self.shape(kind, legendX + 6, y - 4)), ("fill", Self.markColors[kind] ?? "#000000")])
            svg.element("text", [("x", SVG.number(legendX + 16)), ("y", SVG.number(y)), ("class", "legend")], content: kind.rawValue)
            legendX += 30 + 7 * Double(kind.rawValue.count)
        }
        svg.close("svg")
        return svg.text
    }

    /// A triangle pointing back for a rollback, a diamond for an override, a bar for a demotion.
    static func shape(_ kind: Mark.Kind, _ x: Double, _ y: Double) -> String {
        let n = SVG.number
        switch kind {
        case .rollback: return "M\(n(x + 6)) \(n(y - 7))L\(n(x - 6)) \(n(y))L\(n(x + 6)) \(n(y + 7))Z"
        case .override: return "M\(n(x)) \(n(y - 7))L\(n(x + 7)) \(n(y))L\(n(x)) \(n(y + 7))L\(n(x - 7)) \(n(y))Z"
        case .demotion: return "M\(n(x - 2)) \(n(y - 9))h4v18h-4Z"
        }
    }

    /// What the chart shows, in words: each lane's holders in order and the marks.
    public var description: String {
        let lanesText = lanes.enumerated().map { index, lane in
            let holders = bars.filter { $0.lane == index }.sorted { $0.from < $1.from }.map(\.label)
            return "\(lane): " + (holders.isEmpty ? "never held" : holders.joined(separator: " → "))
        }
        let marksText = marks.map { "\($0.kind.rawValue) on \(lanes[$0.lane]) (\($0.text))" }
        return "\(title). " + lanesText.joined(separator: "; ") + "."
            + (marksText.isEmpty ? "" : " " + marksText.joined(separator: "; ") + ".")
    }
}
