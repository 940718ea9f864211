import Foundation

extension Registry {
    /// `git clone` (through the git CLI: the user's credentials apply), then what `mv init`
    /// does in a fresh clone: the tensor diff driver in its git config, chunked tensors
    /// reassembled in the work tree. Returns the new clone's folder.
    public static func clone(_ url: String, into folder: String?, textconvCommand: String?) throws -> URL {
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        // As git names it: the last part of the path (`host:team/models.git`, `host:models.git`
        // and `https://host/models.git` all give `models`).
        let last = url.split(whereSeparator: { $0 == "/" || $0 == ":" }).last.map(String.init) ?? "registry"
        let name = folder ?? (last.hasSuffix(".git") ? String(last.dropLast(4)) : last)
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
