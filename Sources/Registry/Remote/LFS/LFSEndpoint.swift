import Foundation
import Git
import TensorStore

/// Where a remote keeps Git LFS objects, found the way git-lfs finds it: `lfs.url` (git
/// config, then the committed `.lfsconfig`), then `remote.<name>.lfsurl`, else from the
/// remote's URL — `<url>.git/info/lfs` for HTTP(S) and SSH remotes, and for a path or
/// `file://` remote the repository's own `lfs/objects` folder (git-lfs's standalone file
/// transfer), so one machine needs no server.
enum LFSEndpoint: Equatable, CustomStringConvertible {
    case directory(URL)
    case http(URL)

    var description: String {
        switch self {
        case .directory(let url): url.path
        case .http(let url): url.absoluteString
        }
    }

    /// For uploads (`forPush`), `lfs.pushurl` and `remote.<name>.lfspushurl` come first, as
    /// git-lfs reads them: a server that takes uploads at another address.
    static func discover(remote: String, git: GitCLI, forPush: Bool = false) throws -> LFSEndpoint {
        let lfsconfig = git.directory.appendingPathComponent(".lfsconfig").path
        let hasLFSConfig = FileManager.default.fileExists(atPath: lfsconfig)
        if forPush,
            let pushURL = try git.config("lfs.pushurl") ?? (hasLFSConfig ? git.config("lfs.pushurl", file: lfsconfig) : nil)
                ?? git.config("remote.\(remote).lfspushurl")
        {
            return try parse(pushURL, explicit: true, base: git.directory)
        }
        let explicit =
            try git.config("lfs.url") ?? (hasLFSConfig ? git.config("lfs.url", file: lfsconfig) : nil)
            ?? git.config("remote.\(remote).lfsurl")
        if let explicit { return try parse(explicit, explicit: true, base: git.directory) }
        // A remote name, or a URL given in its place.
        let url = try git.config("remote.\(remote).url") ?? remote
        return try parse(url, explicit: false, base: git.directory)
    }

    /// The endpoint for a configured LFS URL (`explicit`) or a Git remote URL.
    static func parse(_ text: String, explicit: Bool, base: URL) throws -> LFSEndpoint {
        if text.hasPrefix("https://") || text.hasPrefix("http://") {
            guard var components = URLComponents(string: text), components.host != nil else {
                throw MVError("'\(text)' is not a URL git-lfs could use")
            }
            if !explicit {
                // git-lfs: <url>.git/info/lfs, without doubling a .git the URL already has.
                var path = components.path
                while path.hasSuffix("/") { path.removeLast() }
                components.path = (path.hasSuffix(".git") ? path : path + ".git") + "/info/lfs"
            }
            guard let url = components.url else { throw MVError("'\(text)' is not a URL git-lfs could use") }
            return .http(url)
        }
        if text.hasPrefix("file://") {
            return .directory(Self.objectsRoot(URL(fileURLWithPath: String(text.dropFirst("file://".count)))))
        }
        // ssh://[user@]host[:port]/path and scp-style user@host:path: git-lfs asks the host over
        // ssh (git-lfs-authenticate) or assumes HTTPS on the same path; the latter here.
        if text.hasPrefix("ssh://") || (text.contains(":") && !text.hasPrefix("/") && !text.hasPrefix(".")) {
            var rest = text.hasPrefix("ssh://") ? String(text.dropFirst("ssh://".count)) : text
            if let at = rest.firstIndex(of: "@") { rest = String(rest[rest.index(after: at)...]) }
            let separator: Character = text.hasPrefix("ssh://") ? "/" : ":"
            guard let split = rest.firstIndex(of: separator) else { throw MVError("cannot tell the LFS server of remote '\(text)'") }
            var host = String(rest[..<split])
            if text.hasPrefix("ssh://"), let colon = host.firstIndex(of: ":") { host = String(host[..<colon]) }
            var path = String(rest[rest.index(after: split)...])
            if path.hasPrefix("/") { path.removeFirst() }
            return try parse("https://\(host)/\(path)", explicit: false, base: base)
        }
        let folder = URL(fileURLWithPath: base.path, isDirectory: true)
        return .directory(Self.objectsRoot(URL(fileURLWithPath: text, relativeTo: folder).standardizedFileURL))
    }

    /// A repository on disk keeps LFS objects in its git directory: `<bare>/lfs` or
    /// `<work tree>/.git/lfs`.
    static func objectsRoot(_ repository: URL) -> URL {
        let dotGit = repository.appendingPathComponent(".git")
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: dotGit.path, isDirectory: &isFolder), isFolder.boolValue {
            return dotGit.appendingPathComponent("lfs")
        }
        return repository.appendingPathComponent("lfs")
    }
}
