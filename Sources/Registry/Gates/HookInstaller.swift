import Foundation
import Git
import SystemIO

/// Installs mv's hooks into a repository's hooks folder (respecting `core.hooksPath`),
/// keeping any hook already there: it is renamed `<name>.mv-chained` and runs first, with
/// the same arguments and input. Uninstalling puts it back.
extension Registry {
    public static let hookMarker = "# mv-hook:"
    public static let chainedSuffix = ".mv-chained"

    /// The script of one hook. `mvCommand` is how it calls mv: the `git-model` on PATH, or
    /// an absolute path when mv is not on PATH. The files in Hooks/ are this text with
    /// `git-model`.
    public static func hookScript(_ hook: GitHook, mvCommand: String) -> String {
        let quoted = "'" + mvCommand.replacingOccurrences(of: "'", with: "'\\''") + "'"
        var script = """
            #!/bin/sh
            \(hookMarker) \(hook.rawValue)
            # Installed by 'mv hooks install'; 'mv hooks uninstall' removes it and restores the hook it chained.
            # Purpose: \(hook.purpose).
            # A hook that was here before runs first (saved as \(hook.rawValue)\(chainedSuffix)); both must pass.
            MV_BIN=${MV_BIN:-\(quoted)}
            hook_dir=$(dirname "$0")
            input=$(mktemp "${TMPDIR:-/tmp}/mv-hook.XXXXXX") || exit 1
            trap 'rm -f "$input"' EXIT
            cat > "$input"
            if [ -x "$hook_dir/\(hook.rawValue)\(chainedSuffix)" ]; then
              "$hook_dir/\(hook.rawValue)\(chainedSuffix)" "$@" < "$input" || exit $?
            fi

            """
        if hook == .referenceTransaction {
            script += """
                # Only a prepared transaction that touches a stage tag (name#stage#N) needs mv.
                [ "$1" = prepared ] || exit 0
                grep -q 'refs/tags/[^ ]*#' "$input" || exit 0

                """
        }
        script += """
            "$MV_BIN" hook \(hook.rawValue) "$@" < "$input"

            """
        return script
    }

    /// Where hooks go: `core.hooksPath` or `.git/hooks`.
    public var hooksDirectory: URL { HookRunner(repository: repository).directory }

    /// Installs `hooks`; returns what happened to each.
    public func installHooks(_ hooks: [GitHook], mvCommand: String) throws -> [(hook: GitHook, chained: Bool)] {
        let fileManager = FileManager.default
        let directory = hooksDirectory
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        return try hooks.map { hook in
            let path = directory.appendingPathComponent(hook.rawValue)
            let chainedPath = directory.appendingPathComponent(hook.rawValue + Self.chainedSuffix)
            var chained = fileManager.fileExists(atPath: chainedPath.path)
            if fileManager.fileExists(atPath: path.path), !Self.isMVHook(path) {
                guard !chained else {
                    throw MVError(
                        "both '\(path.path)' and '\(chainedPath.path)' exist and neither is mv's",
                        hint: "merge them by hand, then run 'mv hooks install' again")
                }
                try fileManager.moveItem(at: path, to: chainedPath)
                chained = true
            }
            let temporary = directory.appendingPathComponent(".\(hook.rawValue).mv-tmp")
            try Data(Self.hookScript(hook, mvCommand: mvCommand).utf8).write(to: temporary)
            try fileManager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: temporary.path)
            try FileSystem.rename(temporary, to: path)
            return (hook, chained)
        }
    }

    /// Removes mv's hooks and restores the hooks they chained.
    public func uninstallHooks() throws -> [(hook: GitHook, restored: Bool)] {
        let fileManager = FileManager.default
        let directory = hooksDirectory
        return try GitHook.allCases.compactMap { hook in
            let path = directory.appendingPathComponent(hook.rawValue)
            let chainedPath = directory.appendingPathComponent(hook.rawValue + Self.chainedSuffix)
            guard Self.isMVHook(path) else { return nil }
            try fileManager.removeItem(at: path)
            guard fileManager.fileExists(atPath: chainedPath.path) else { return (hook, false) }
            try fileManager.moveItem(at: chainedPath, to: path)
            return (hook, true)
        }
    }

    static func isMVHook(_ path: URL) -> Bool {
        guard let data = FileManager.default.contents(atPath: path.path) else { return false }
        return String(decoding: data.prefix(200), as: UTF8.self).contains(hookMarker)
    }
}
