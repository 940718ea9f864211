import Foundation

/// A text rendering of an .npy file for `git diff` (the textconv driver mv configures):
/// layout and statistics always, and every value when the tensor is small enough to read.
public enum TensorText {
    public static let valueLimit = 256

    public static func render(npyData data: Data, fileName: String) -> String {
        let header: NpyHeader
        let values: [Double]
        do {
            (header, values) = try Npy.values(from: data, fileName: fileName)
        } catch {
            return "not a valid .npy file: \(error)\n"
        }
        // From the raw body, as `mv add` computes them, so the figures match the manifest's
        // (for a tensor it records with the stored dtype, i.e. all but bfloat16).
        var accumulator = TensorStatistics.Accumulator()
        let start = data.startIndex + header.headerLength
        data[start..<(start + header.dataLength)].withUnsafeBytes { accumulator.add(raw: $0, dtype: header.dtype) }
        let stats = accumulator.result
        var lines = [
            "npy \(header.dtype.rawValue) shape (\(header.shape.map(String.init).joined(separator: ", "))) \(header.elementCount) values",
            "min \(number(stats.min))  max \(number(stats.max))  mean \(number(stats.mean))  std \(number(stats.std))  l2 \(number(stats.l2Norm))"
                + (stats.nonFiniteCount > 0 ? "  non-finite \(stats.nonFiniteCount)" : ""),
            "sha256 \(ContentHash.sha256(data))",
        ]
        if values.count <= valueLimit {
            // One line per row of the last axis, so a changed value shows as a changed line.
            let width = max(1, header.shape.last ?? 1)
            var index = 0
            while index < values.count {
                let row = values[index..<min(values.count, index + width)]
                lines.append("  " + row.map(number).joined(separator: " "))
                index += width
            }
        } else {
            lines.append("  (\(values.count) values; first: " + values.prefix(8).map(number).joined(separator: " ") + " …)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(format: "%.0f", value) }
        return String(format: "%.9g", value)
    }
}
