import Foundation

/// Maps data values onto pixels, and says where the ticks go: at round numbers (1, 2 or 5
/// times a power of ten) on a linear scale, at powers of ten on a logarithmic one.
public struct Scale: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case linear
        case logarithmic
    }

    public let kind: Kind
    /// The domain, widened to round numbers that hold every value.
    public let lower: Double
    public let upper: Double
    /// The pixel range the domain maps to (`start` for `lower`).
    public let start: Double
    public let end: Double
    /// The distance between linear ticks.
    public let step: Double

    /// A scale for `values` (NaN and infinities ignored) over pixels `start`…`end`. Positive
    /// values spanning two decades or more get a logarithmic scale unless `allowLog` is off.
    /// No value: 0…1. One value, or all equal: a round interval around it.
    public init(values: [Double], start: Double, end: Double, tickCount: Int = 5, allowLog: Bool = true) {
        self.start = start
        self.end = end
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else {
            (kind, lower, upper, step) = (.linear, 0, 1, 0.2)
            return
        }
        if allowLog, low > 0, high / low >= 100 {
            kind = .logarithmic
            step = 10
            lower = Foundation.pow(10, Foundation.floor(Foundation.log10(low)))
            upper = Foundation.pow(10, Foundation.ceil(Foundation.log10(high)))
            return
        }
        kind = .linear
        var (a, b) = (low, high)
        if a == b {
            // One value: an interval of a round width around it (0…1 around 0).
            let width = a == 0 ? 1 : Scale.niceStep(Swift.abs(a) / 2)
            (a, b) = (a - width, b + width)
        }
        let step = Scale.niceStep((b - a) / Double(Swift.max(1, tickCount - 1)))
        self.step = step
        lower = Scale.clean(Foundation.floor(a / step + 1e-9) * step, step: step)
        upper = Scale.clean(Foundation.ceil(b / step - 1e-9) * step, step: step)
    }

    /// A linear scale over exactly `domain` (not widened to round numbers), ticks at the round
    /// numbers inside it: for axes whose ends mean something, such as half a slot either side
    /// of the first and last version.
    public init(domain: ClosedRange<Double>, start: Double, end: Double, tickCount: Int = 5) {
        let width = domain.upperBound - domain.lowerBound
        guard width > 0, width.isFinite else {
            self.init(values: [domain.lowerBound], start: start, end: end, tickCount: tickCount, allowLog: false)
            return
        }
        self.init(
            kind: .linear, lower: domain.lowerBound, upper: domain.upperBound, start: start, end: end,
            step: Scale.niceStep(width / Double(Swift.max(1, tickCount - 1))))
    }

    private init(kind: Kind, lower: Double, upper: Double, start: Double, end: Double, step: Double) {
        self.kind = kind
        self.lower = lower
        self.upper = upper
        self.start = start
        self.end = end
        self.step = step
    }

    /// The pixel of `value` (NaN stays NaN; values outside the domain map outside the range).
    public func pixel(_ value: Double) -> Double {
        let fraction: Double
        switch kind {
        case .linear:
            fraction = (value - lower) / (upper - lower)
        case .logarithmic:
            guard value > 0 else { return .nan }
            fraction = (Foundation.log10(value) - Foundation.log10(lower)) / (Foundation.log10(upper) - Foundation.log10(lower))
        }
        return start + fraction * (end - start)
    }

    /// Tick values inside the domain: multiples of the round step, or powers of ten.
    public func ticks() -> [Double] {
        switch kind {
        case .logarithmic:
            let first = Int(Foundation.log10(lower).rounded())
            let last = Int(Foundation.log10(upper).rounded())
            return (first...Swift.max(first, last)).map { Foundation.pow(10, Double($0)) }
        case .linear:
            var ticks: [Double] = []
            var k = Foundation.ceil(lower / step - 1e-9)
            while k * step <= upper + step * 1e-9 {
                // k·step, not repeated addition: 0.1 + 0.2 is not 0.3.
                ticks.append(Scale.clean(k * step, step: step))
                k += 1
            }
            return ticks
        }
    }

    /// The tick's text: no more decimals than the step needs; powers of ten as 1, 10, 100,
    /// 1k… on a logarithmic scale.
    public func label(_ value: Double, ticks: [Double]) -> String {
        if kind == .logarithmic { return Scale.compact(value) }
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        let decimals = Swift.max(0, -Int(Foundation.floor(Foundation.log10(step) + 1e-9)))
        if Swift.abs(value) >= 1e6 || (Swift.abs(value) < 1e-4 && value != 0) { return String(format: "%.2g", value) }
        return String(format: "%.\(decimals)f", value)
    }

    /// 1, 2 or 5 times a power of ten, whichever gives a tick count closest to the one asked
    /// for (the thresholds are the geometric means: √2, √10, √50).
    public static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let power = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
        let ratio = raw / power
        let factor: Double = ratio >= 50.0.squareRoot() ? 10 : ratio >= 10.0.squareRoot() ? 5 : ratio >= 2.0.squareRoot() ? 2 : 1
        return factor * power
    }

    /// `value` rounded to the decimals of `step`, so ticks read 0.3, not 0.30000000000000004.
    static func clean(_ value: Double, step: Double) -> Double {
        let decimals = Swift.max(0, -Int(Foundation.floor(Foundation.log10(step) + 1e-9)))
        let rounded = Double(String(format: "%.\(decimals)f", value)) ?? value
        return rounded == 0 ? 0 : rounded
    }

    static func compact(_ value: Double) -> String {
        switch value {
        case 1e9...: return "\(Int(value / 1e9))G"
        case 1e6...: return "\(Int(value / 1e6))M"
        case 1e3...: return "\(Int(value / 1e3))k"
        case 1...: return "\(Int(value))"
        default: return String(format: "%g", value)
        }
    }
}
