import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A local cache file of lines in `.git/mv`, appended to without being read and cut to its
/// newer half past a size limit: an entry lost only costs a slower path later.
enum AppendedLines {
    /// The file's lines (none when it is missing or unreadable).
    static func read(_ url: URL) -> [Substring] {
        guard let data = FileManager.default.contents(atPath: url.path) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n")
    }

    /// Appends `lines` in one write (concurrent commands' lines do not interleave). Best
    /// effort: a cache that cannot be written costs speed only.
    static func append(_ lines: [String], to url: URL, limit: Int) {
        guard !lines.isEmpty else { return }
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        let text = lines.joined(separator: "\n") + "\n"
        _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        var info = stat()
        let size = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
        close(fd)
        if size > limit {
            let all = read(url)
            try? Data((all.suffix(all.count / 2).joined(separator: "\n") + "\n").utf8).writeUnsynced(to: url, atomically: true)
        }
    }
}
