import Foundation

/// Wall-clock marks for performance work: with `MV_TRACE=1` in the environment, each
/// `mark` prints the milliseconds since the process started measuring to stderr.
public enum PhaseTrace {
    private static let enabled = ProcessInfo.processInfo.environment["MV_TRACE"] != nil
    private static let origin = DispatchTime.now().uptimeNanoseconds

    public static func mark(_ label: @autoclosure () -> String) {
        guard enabled else { return }
        let start = origin  // the first mark starts the clock
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        FileHandle.standardError.write(Data(String(format: "mv-trace %8.1f ms  %@\n", elapsed, label()).utf8))
    }
}
