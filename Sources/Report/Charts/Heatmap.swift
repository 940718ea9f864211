import Foundation

/// A grid of cells coloured by value: a confusion matrix (counts written in the cells) or
/// the relative change of each tensor between consecutive versions (a row per tensor, a
/// column per step). Colours run along a sequential scale that stays ordered in grey and for
/// every common colour-vision deficiency (viridis); zero is drawn pale and a missing value
/// (a tensor added, removed or reshaped) is marked with a cross. Every cell has a tooltip,
/// and a colour bar with round ticks says what the colours mean.
public struct Heatmap: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    /// What a value is, with its unit; the colour bar's label.
    public var valueLabel: String
    public var rowLabels: [String]
    public var columnLabels: [String]
    /// `values[row][column]`; nil for a cell with no value.
    public var values: [[Double?]]
    /// Write each value in its cell (for small grids such as a confusion matrix).
    public var showValues = false
    /// Colour by the logarithm of the value when the non-zero values span two decades or more.
    public var allowLog = true
    /// What the tooltip says of a nil cell.
    public var missingText = "no value"

    public init(
        title: String, xLabel: String, yLabel: String, valueLabel: String, rowLabels: [String], columnLabels: [String],
        values: [[Double?]]
    ) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.valueLabel = valueLabel
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.values = values
    }

    /// Viridis at nine evenly spaced stops, from dark purple (low) to yellow (high).
    static let ramp: [(Double, Double, Double)] = [
        (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141), (39, 173, 129), (92, 200, 99), (170, 220, 50),
        (253, 231, 37),
    ]

    /// The ramp's colour at `fraction` (clamped to 0…1), as #rrggbb.
    public static func color(_ fraction: Double) -> String {
        let t = fraction.isFinite ? Swift.min(1, Swift.max(0, fraction)) : 0
        let position = t * Double(ramp.count - 1)
        let low = Swift.min(ramp.count - 2, Int(position))
        let mix = position - Double(low)
        let (a, b) = (ramp[low], ramp[low + 1])
        let channel = { (u: Double, v: Double) in Int((u + (v - u) * mix).rounded()) }
        return String(format: "#%02x%02x%02x", channel(a.0, b.0), channel(a.1, b.1), channel(a.2, b.2))
    }

    public static let zeroColor = "#f0f0f0"

    /// Rows are tall enough for their labels up to this many; past it, a label every few rows.
    static let labelledRows = 60

    /// The chart as an `<svg>` element.
    public func svg() -> String {
        let rows = rowLabels.count
        let columns = columnLabels.count
        let longestRow = rowLabels.map(\.count).max() ?? 0
        let left = Swift.min(260, Swift.max(48, 6.5 * Double(longestRow) + 24))
        let cellWidth = Swift.min(64, Swift.max(14, 560 / Double(Swift.max(1, columns))))
        // Column labels longer than a cell is wide are written slanted.
        let longestColumn = Double(columnLabels.map(\.count).max() ?? 0) * 6.5
        let slanted = longestColumn > cellWidth - 4
        let top = 30.0
        let right = Swift.max(90, 6.5 * Double(valueLabel.count + 6) + 30)
        let bottom = 44 + (slanted ? longestColumn * 0.71 : 14)
        let cellHeight = rows <= Self.labelledRows ? (showValues ? 28.0 : 14.0) : Swift.max(3, 840 / Double(rows))
        let plotWidth = cellWidth * Double(columns)
        let plotHeight = cellHeight * Double(rows)
        let barHeight = Swift.max(90, Swift.min(plotHeight, 200))
        // Wide enough for the title, tall enough for the colour bar and its label.
        let width = Swift.max(left + plotWidth + right, left + 8 * Double(title.count) + 10)
        let height = Swift.max(top + plotHeight + bottom, top + barHeight + 30)

        let positive = values.flatMap { $0.compactMap { $0 } }.filter { $0.isFinite && $0 > 0 }
        // A linear colour scale starts at zero; a logarithmic one at the smallest decade.
        // About one tick per 22 pixels of the colour bar.
        let tickCount = Swift.max(2, Swift.min(6, Int(barHeight / 22)))
        var scale = Scale(values: positive, start: 0, end: 1, tickCount: tickCount, allowLog: allowLog)
        if scale.kind == .linear {
            scale = Scale(values: [0] + (positive.isEmpty ? [1] : positive), start: 0, end: 1, tickCount: tickCount, allowLog: false)
        }
        let fraction = { (value: Double) -> Double in
            scale.kind == .logarithmic ? scale.pixel(Swift.max(value, scale.lower)) : scale.pixel(value)
        }

        var svg = SVG()
        svg.open(
            "svg",
            [
                ("xmlns", "http://www.w3.org/2000/svg"), ("viewBox", "0 0 \(SVG.number(width)) \(SVG.number(height))"),
                ("width", SVG.number(width)), ("height", SVG.number(height)), ("role", "img"), ("class", "chart heatmap"),
            ])
        svg.element("title", [], content: title)
        svg.element("desc", [], content: description)
        svg.element("text", [("x", SVG.number(left)), ("y", "18"), ("class", "chart-title")], content: title)
        let labelEvery = rows <= Self.labelledRows ? 1 : Int((12 / cellHeight).rounded(.up))
        for (row, label) in rowLabels.enumerated() {
            let y = top + Double(row) * cellHeight
            if row % labelEvery == 0 {
                svg.element(
                    "text",
                    [
                        ("x", SVG.number(left - 4)), ("y", SVG.number(y + Swift.min(cellHeight, 12) / 2 + 4)), ("text-anchor", "end"),
                        ("class", "tick"),
                    ],
                    content: label)
            }
            for column in 0..<columns {
                let value = row < values.count && column < values[row].count ? values[row][column] : nil
                let x = left + Double(column) * cellWidth
                let cell = [
                    ("x", SVG.number(x)), ("y", SVG.number(y)), ("width", SVG.number(cellWidth - 1)),
                    ("height", SVG.number(Swift.max(1, cellHeight - (cellHeight > 6 ? 1 : 0)))),
                ]
                let tip = "\(label) · \(columnLabels[column]): " + (value.map { String(format: "%.4g", $0) } ?? missingText)
                guard let value, value.isFinite else {
                    svg.open("rect", cell + [("fill", "#ffffff"), ("stroke", "#999999"), ("stroke-width", "0.5")])
                    svg.element("title", [], content: tip)
                    svg.close("rect")
                    if cellHeight >= 8 {
                        svg.element(
                            "path",
                            [
                                (
                                    "d",
                                    "M\(SVG.number(x + 2)) \(SVG.number(y + 2))L\(SVG.number(x + cellWidth - 3)) \(SVG.number(y + cellHeight - 3))"
                                ),
                                ("stroke", "#999999"),
                            ])
                    }
                    continue
                }
                let t = fraction(value)
                svg.open("rect", cell + [("fill", value <= 0 ? Self.zeroColor : Self.color(t))])
                svg.element("title", [], content: tip)
                svg.close("rect")
                if showValues {
                    svg.element(
                        "text",
                        [
                            ("x", SVG.number(x + cellWidth / 2)), ("y", SVG.number(y + cellHeight / 2 + 4)), ("text-anchor", "middle"),
                            // Light text on the dark end of the ramp (a class: page CSS outranks a fill attribute).
                            ("fill", value > 0 && t < 0.6 ? "#ffffff" : "#111111"), ("class", value > 0 && t < 0.6 ? "cell light" : "cell"),
                        ], content: Self.cellText(value))
                }
            }
        }
        // Column labels under the grid: slanted when long, one per 14 pixels at most.
        let columnTicks = LineChart.thinned(
            columnLabels.enumerated().map { (Double($0.offset), $0.element) }, room: plotWidth * (slanted ? 40 / 14 : 1))
        for (column, label) in columnTicks {
            let x = left + (column + 0.5) * cellWidth
            let y = top + plotHeight + 14
            var attributes = [("x", SVG.number(x)), ("y", SVG.number(y)), ("text-anchor", slanted ? "end" : "middle"), ("class", "tick")]
            if slanted { attributes.append(("transform", "rotate(-45 \(SVG.number(x)) \(SVG.number(y)))")) }
            svg.element("text", attributes, content: label)
        }
        svg.element(
            "text",
            [
                ("x", SVG.number(left + plotWidth / 2)), ("y", SVG.number(height - 8)), ("text-anchor", "middle"),
                ("class", "axis-label"),
            ], content: xLabel)
        svg.element(
            "text",
            [
                ("x", "12"), ("y", SVG.number(top + plotHeight / 2)), ("text-anchor", "middle"),
                ("transform", "rotate(-90 12 \(SVG.number(top + plotHeight / 2)))"), ("class", "axis-label"),
            ], content: yLabel)
        // The colour bar: the ramp from bottom (low) to top (high), ticks at round values.
        let barX = left + plotWidth + 16
        let steps = 24
        for step in 0..<steps {
            let t = (Double(step) + 0.5) / Double(steps)
            svg.element(
                "rect",
                [
                    ("x", SVG.number(barX)), ("y", SVG.number(top + barHeight * (1 - Double(step + 1) / Double(steps)))),
                    ("width", "12"), ("height", SVG.number(barHeight / Double(steps) + 0.5)), ("fill", Self.color(t)),
                ])
        }
        let ticks = scale.ticks()
        for tick in ticks {
            let t = fraction(tick)
            guard t >= -1e-9, t <= 1 + 1e-9 else { continue }
            svg.element(
                "text", [("x", SVG.number(barX + 16)), ("y", SVG.number(top + barHeight * (1 - t) + 4)), ("class", "tick")],
                content: scale.label(tick, ticks: ticks))
        }
        svg.element(
            "text",
            [("x", SVG.number(barX)), ("y", SVG.number(top + barHeight + 16)), ("class", "legend")],
            content: valueLabel + (scale.kind == .logarithmic ? " (log)" : ""))
        svg.close("svg")
        return svg.text
    }

    /// Whole numbers as they are, others with three significant digits.
    static func cellText(_ value: Double) -> String {
        value == value.rounded() && Swift.abs(value) < 1e9 ? String(Int(value)) : String(format: "%.3g", value)
    }

    /// What the grid shows, in words: its size and its largest values.
    public var description: String {
        var cells: [(String, Double)] = []
        for (row, label) in rowLabels.enumerated() where row < values.count {
            for (column, value) in values[row].enumerated() where column < columnLabels.count {
                if let value, value.isFinite { cells.append(("\(label) at \(columnLabels[column])", value)) }
            }
        }
        let largest = cells.sorted { $0.1 > $1.1 }.prefix(3).map { "\($0.0) \(String(format: "%.4g", $0.1))" }
        return "\(title). \(valueLabel) for \(rowLabels.count) \(yLabel) (rows) by \(columnLabels.count) \(xLabel) (columns)"
            + (largest.isEmpty ? "; no values." : "; largest: " + largest.joined(separator: ", ") + ".")
    }
}
