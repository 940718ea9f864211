import Foundation

/// A progress line on stderr (bytes, rate, time left), drawn only on a terminal and never
/// with --quiet, at most ten times a second.
final class ProgressLine: @unchecked Sendable {
    private let started = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false
    private let enabled: Bool

    init(quiet: Bool) {
        enabled = !quiet && isatty(STDERR_FILENO) == 1
    }

    func update(done: Int64, total: Int64, label: String) {
        guard enabled else { return }
        let now = Date()
        guard done >= total || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let elapsed = max(now.timeIntervalSince(started), 0.001)
        let rate = Double(done) / elapsed
        let left = rate > 0 ? Double(total - done) / rate : 0
        let percent = total > 0 ? Int(Double(done) / Double(total) * 100) : 100
        let text =
            "\r\(label) \(Self.bytes(done)) / \(Self.bytes(total)) (\(percent)%)  \(Self.bytes(Int64(rate)))/s  \(done >= total ? "done" : "\(Int(left.rounded(.up))) s left")\u{1B}[K"
        FileHandle.standardError.write(Data(text.utf8))
        drawn = true
    }

    func finish() {
        guard enabled, drawn else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }
}
