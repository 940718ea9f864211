import Foundation

extension Registry {
    /// `git clone` (through the git CLI: the user's credentials apply), then what `mv init`
    /// does in a fresh clone: the tensor diff driver in its git config, chunked tensors
    /// reassembled in the work tree. Returns the new clone's folder.
    public static func clone(_ url: String, into folder: String?, textconvCommand: String?) throws -> URL {
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        let name =
            folder
            ?? String(url.split(separator: "/").last.map { $0.hasSuffix(".git") ? $0.dropLast(4) : $0 } ?? "registry")
        let target = URL(fileURLWithPath: name, relativeTo: here).standardizedFileURL
        if FileManager.default.fileExists(atPath: target.path),
            !((try? FileManager.default.contentsOfDirectory(atPath: target.path))?.isEmpty ?? false)
        {
            throw MVError("'\(target.path)' already exists and is not empty", hint: "name another folder: mv clone URL DIR")
        }
        let status = try GitCLI(directory: here).runAttached(["clone", "--quiet", url, target.path])
        guard status == 0 else {
            throw MVError("git clone of '\(url)' failed (exit status \(status))", hint: "git's message is above")
        }
        _ = try initialize(at: target.path, textconvCommand: textconvCommand)
        return target
    }
}
