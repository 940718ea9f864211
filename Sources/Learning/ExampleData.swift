import Foundation

/// The seed article's running example, y = 3x + 2 + Gaussian noise, as CSV text: built-in
/// data for the demo, the README's tour and tests, reproducible from its seed.
public enum ExampleData {
    public static func linear(rows: Int, seed: UInt64, noise: Double = 0.5, features: Int = 1) -> String {
        var generator = SeededGenerator(seed: seed)
        let names = features == 1 ? ["x"] : (1...features).map { "x\($0)" }
        var lines = [(names + ["y"]).joined(separator: ",")]
        lines.reserveCapacity(rows + 1)
        for _ in 0..<rows {
            let xs = (0..<features).map { _ in generator.nextDouble() * 10 }
            // Slopes 3, -1.5, 0.75, …: the first feature carries the article's y = 3x + 2.
            let y =
                xs.enumerated().reduce(2.0) { sum, pair in sum + 3 * pow(-0.5, Double(pair.offset)) * pair.element }
                + noise * generator.nextGaussian()
            lines.append((xs + [y]).map { String(format: "%.6f", $0) }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
