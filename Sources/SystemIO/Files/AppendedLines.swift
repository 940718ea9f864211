import Foundation

/// A local cache file of lines, appended to without being read and cut to its newer half
/// past a size limit: an entry lost only costs a slower path later.
public enum AppendedLines {
    /// The file's lines (none when it is missing or unreadable).
    public static func read(_ url: URL) -> [Substring] {
        guard let data = FileManager.default.contents(atPath: url.path) else { return [] }
        // Split the bytes, not the Characters: a cache of 100,000 lines is read in
        // milliseconds instead of a third of a second.
        let text = String(decoding: data, as: UTF8.self)
        return text.utf8.split(separator: UInt8(ascii: "\n")).compactMap { Substring($0) }
    }

    /// Appends `lines` in one write (concurrent commands' lines do not interleave). Best
    /// effort: a cache that cannot be written costs speed only.
    public static func append(_ lines: [String], to url: URL, limit: Int) {
        guard !lines.isEmpty else { return }
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard let file = try? OpenFile(url.path, flags: O_WRONLY | O_CREAT | O_APPEND) else { return }
        let text = lines.joined(separator: "\n") + "\n"
        guard (try? text.utf8CString.withUnsafeBytes({ try file.write(UnsafeRawBufferPointer(rebasing: $0.dropLast())) })) != nil,
            let size = try? file.size()
        else { return }
        try? file.close()
        if size > limit {
            let all = read(url)
            try? Data((all.suffix(all.count / 2).joined(separator: "\n") + "\n").utf8).writeUnsynced(to: url, atomically: true)
        }
    }
}
