import Foundation

/// Wall-clock marks for performance work: with `MV_TRACE=1` in the environment, each
/// `mark` prints the milliseconds since the process started measuring to stderr.
public enum PhaseTrace {
    // getenv, not ProcessInfo.environment: that builds a dictionary of the whole environment
    // (~0.5 ms) at every start.
    private static let enabled = getenv("MV_TRACE") != nil
    private static let origin = DispatchTime.now().uptimeNanoseconds

    public static func mark(_ label: @autoclosure () -> String) {
        guard enabled else { return }
        let start = origin  // the first mark starts the clock
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        FileHandle.standardError.write(Data(String(format: "mv-trace %8.1f ms  %@\n", elapsed, label()).utf8))
    }
}
