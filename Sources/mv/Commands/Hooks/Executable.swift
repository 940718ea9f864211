import Foundation

/// How git should call this mv binary back (for the textconv driver and hooks).
enum Executable {
    static var path: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    static func command(_ subcommand: String) -> String {
        let quoted = path.contains(" ") ? "'\(path)'" : path
        return "\(quoted) \(subcommand)"
    }

    /// `git-model` when this very binary is the one on PATH under that name, else its
    /// absolute path, so hooks keep working for whoever runs git.
    static func hookCommand() -> String {
        let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for folder in searchPath.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent("git-model").path
            if FileManager.default.isExecutableFile(atPath: candidate),
                URL(fileURLWithPath: candidate).resolvingSymlinksInPath().path == URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            {
                return "git-model"
            }
        }
        return path
    }
}
