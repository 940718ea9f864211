import Foundation

extension GitTestCase {
    /// tenure (numeric), plan (categorical), monthly (numeric) → churned (yes/no). `shift`
    /// moves tenure by that many of its standard deviations (about 5.8), `plans` sets the plan
    /// shares, `id` adds a first column of row ids, `target` the label column.
    public static func churnCSV(
        rows: Int, seed: UInt64, shift: Double = 0, plans: [Double] = [0.5, 0.3, 0.2], id: Bool = false, target: Bool = true
    ) -> String {
        var state = seed &* 2_862_933_555_777_941_757 &+ 3_037_000_493
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        let names = ["basic", "pro", "max"]
        var header = ["tenure", "plan", "monthly"]
        if id { header.insert("id", at: 0) }
        if target { header.append("churned") }
        var lines = [header.joined(separator: ",")]
        for row in 0..<rows {
            let tenure = next() * 20 + shift * 5.77
            let u = next()
            let plan = u < plans[0] ? names[0] : u < plans[0] + plans[1] ? names[1] : names[2]
            let monthly = 20 + next() * 30 + (plan == "max" ? 40 : 0)
            let score = 8 - tenure + (plan == "basic" ? 3 : plan == "pro" ? 0 : -2) + (next() - 0.5) * 6
            var cells = [String(format: "%.3f", tenure), plan, String(format: "%.2f", monthly)]
            if id { cells.insert("r\(row)", at: 0) }
            if target { cells.append(score > 0 ? "yes" : "no") }
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
