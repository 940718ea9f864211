import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Operations on names in the file system, through the system-call funnel.
public enum FileSystem {
    /// Moves `source` to `destination` in one step, replacing what is there (rename(2):
    /// readers see the old file or the new one, never a mix).
    public static func rename(_ source: URL, to destination: URL) throws {
        try SystemCall.run("rename", path: destination.path) { Glibc.rename(source.path, destination.path) }
    }

    /// A second name for `file` (a hard link).
    public static func link(_ file: URL, as name: URL) throws {
        try SystemCall.run("link", path: name.path) { Glibc.link(file.path, name.path) }
    }

    /// Removes the name `file`; absent is fine.
    public static func remove(_ file: URL) {
        _ = unlink(file.path)
    }

    /// Makes renames in `folder` durable (fsync of the directory); best effort.
    public static func syncFolder(_ folder: URL) {
        guard let directory = try? OpenFile(folder.path, flags: O_RDONLY) else { return }
        try? directory.sync()
    }

    /// Removes the empty folders from `file`'s folder up to (not including) `root`.
    public static func removeEmptyParents(of file: URL, stopAt root: URL) {
        var folder = file.deletingLastPathComponent()
        while folder.path.count > root.path.count,
            let contents = try? FileManager.default.contentsOfDirectory(atPath: folder.path), contents.isEmpty
        {
            try? FileManager.default.removeItem(at: folder)
            folder = folder.deletingLastPathComponent()
        }
    }
}
