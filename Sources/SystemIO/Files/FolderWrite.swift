import Foundation

/// Files and folders one command writes under a destination folder, so that a failure
/// half-way (a full disk, a file-size limit) removes them again instead of leaving a
/// half-written copy of a version behind. Files that were there before are not touched,
/// except ones the command itself was overwriting (with `--force`).
public struct FolderWrite {
    private var files: [URL] = []
    private var folders: [URL] = []
    private let fileManager = FileManager.default

    public init() {}

    /// Creates `url`'s missing parent folders and records `url` before it is written, so a
    /// partly written file is removed too.
    public mutating func prepare(_ url: URL) throws {
        try createFolder(url.deletingLastPathComponent())
        files.append(url)
    }

    /// Creates `folder` and its missing parents, remembering which were new.
    public mutating func createFolder(_ folder: URL) throws {
        var missing: [URL] = []
        var current = folder.standardizedFileURL
        var isDirectory: ObjCBool = false
        while !fileManager.fileExists(atPath: current.path, isDirectory: &isDirectory) {
            missing.append(current)
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { break }
            current = parent
        }
        try fileManager.createDirectory(at: folder, withIntermediateDirectories: true)
        folders.append(contentsOf: missing.reversed())
    }

    /// Runs `body`; if it throws, removes what was recorded (new folders only when empty),
    /// then rethrows.
    public mutating func undoingOnFailure<T>(_ body: (inout FolderWrite) throws -> T) throws -> T {
        do {
            return try body(&self)
        } catch {
            for file in files.reversed() { try? fileManager.removeItem(at: file) }
            for folder in folders.reversed() where (try? fileManager.contentsOfDirectory(atPath: folder.path))?.isEmpty == true {
                try? fileManager.removeItem(at: folder)
            }
            throw error
        }
    }
}
