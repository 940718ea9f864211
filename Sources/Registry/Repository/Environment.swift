import Foundation
import Git
import ModelFormat

/// Facts about the environment a version was made in.
enum Environment {
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// The path of a program on PATH, if there is one.
    static func executable(named name: String) -> String? {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return folders.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The command line as a shell would take it back.
    static func commandLine(_ arguments: [String]) -> String {
        arguments.map { argument in
            let safe = !argument.isEmpty && argument.allSatisfy { $0.isLetter || $0.isNumber || "-_./=@:,+%".contains($0) }
            return safe ? argument : "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }
}

extension Registry {
    /// The code state training started from: HEAD's commit and whether tracked files
    /// differed from it (untracked files do not count, as with `git describe --dirty`).
    func codeState() throws -> (commit: String?, branch: String?, dirty: Bool) {
        let head = try repository.head()
        let dirty = repository.workingDirectory == nil ? false : !(try repository.status(includeUntracked: false).isEmpty)
        return (head.target?.description, head.branchName, dirty)
    }

    /// How a data file is named in lineage: relative to the repository root when it is
    /// inside the work tree, so the manifest does not depend on where the clone lives.
    func lineagePath(_ url: URL) -> String {
        let path = url.standardizedFileURL.resolvingSymlinksInPath().path
        if let root = workingDirectory?.standardizedFileURL.resolvingSymlinksInPath().path {
            let prefix = root.hasSuffix("/") ? root : root + "/"
            if path.hasPrefix(prefix) { return String(path.dropFirst(prefix.count)) }
        }
        return path
    }
}
