import Foundation

extension Registry {
    /// `git clone` (through the git CLI: the user's credentials apply) without any LFS
    /// object, then what `mv init` does in a fresh clone: the tensor diff driver in its git
    /// config, chunked tensors reassembled and LFS pointer files replaced by their objects'
    /// bytes in the work tree; then the LFS objects of every stage's holder. Other versions'
    /// objects come when a command reads them. Returns the new clone's folder.
    public static func clone(
        _ url: String, into folder: String?, textconvCommand: String?, notice: ((String) -> Void)? = nil,
        progress: ((_ done: Int64, _ total: Int64, _ label: String) -> Void)? = nil
    ) throws -> (URL, LFSMovement) {
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
        // The objects of the checked-out versions and the stage holders in one transfer, then
        // the work tree gets the checked-out ones.
        // The clone stands whatever happens: a failed transfer is said, and the tensor files
        // keep their pointers until 'mv pull' brings the objects.
        let cloned = try open(at: target.path)
        cloned.progress = progress
        var movement = LFSMovement()
        do {
            movement = try cloned.downloadLFSObjects(commits: cloned.defaultLFSCommits(), remote: "origin", git: GitCLI(directory: target))
        } catch {
            notice?("the clone is in '\(target.path)', but its tensor objects did not come: \(error)")
            cloned.tensors.lfsObjects.fetcher = nil
        }
        let (registry, _) = try initialize(at: target.path, textconvCommand: textconvCommand, notice: notice)
        withExtendedLifetime(registry) {}
        return (target, movement)
    }

    /// `mv pull`'s arguments: the first is the remote unless it names a version (`churn@v3`,
    /// `churn#staging`) or a model of this registry that is not also a remote's name; the
    /// rest are versions whose LFS objects to bring.
    public func pullArguments(_ arguments: [String]) throws -> (remote: String?, versions: [String]) {
        guard let first = arguments.first, let workdir = repository.workingDirectory else { return (nil, arguments) }
        let remotes = try GitCLI(directory: workdir).run(["remote"]).output.split(separator: "\n").map(String.init)
        let isVersion =
            !first.contains("/") && (first.contains("@") || first.contains("#") || (try? versions(of: first).isEmpty) == false)
        if remotes.contains(first) || !isVersion { return (first, Array(arguments.dropFirst())) }
        return (nil, arguments)
    }
}
