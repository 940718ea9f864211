import Foundation
import Git
import SystemIO

/// Runs the repository's git hooks the way git does, for mv's own writes (libgit2 runs
/// none): from the top of the work tree (or the git dir of a bare repository), with
/// GIT_DIR and GIT_WORK_TREE exported, the hook's stdout sent to stderr, and its output
/// reaching the user.
struct HookRunner {
    let repository: Repository

    /// `core.hooksPath` (relative to the work tree, as git reads it) or `.git/hooks`.
    var directory: URL {
        let base = repository.workingDirectory ?? repository.gitDirectory
        if let configured = try? repository.configString("core.hooksPath"), !configured.isEmpty {
            let expanded = configured.hasPrefix("~/") ? NSHomeDirectory() + configured.dropFirst() : configured
            return URL(fileURLWithPath: expanded, relativeTo: base).standardizedFileURL
        }
        return repository.gitDirectory.appendingPathComponent("hooks", isDirectory: true)
    }

    func exists(_ name: String) -> Bool {
        FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent(name).path)
    }

    /// Runs hook `name` if it exists and is executable; returns its exit status, nil when
    /// there is no such hook.
    @discardableResult
    func run(_ name: String, arguments: [String] = [], input: Data? = nil, environment extra: [String: String] = [:]) throws -> Int32? {
        let path = directory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: path.path) else { return nil }
        let process = Process()
        process.executableURL = path
        process.arguments = arguments
        process.currentDirectoryURL = repository.workingDirectory ?? repository.gitDirectory
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_DIR"] = repository.gitDirectory.path
        if let workdir = repository.workingDirectory { environment["GIT_WORK_TREE"] = workdir.path }
        environment.merge(extra) { $1 }
        process.environment = environment
        process.standardOutput = FileHandle.standardError
        process.standardError = FileHandle.standardError
        let pipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : pipe
        let exit: ChildExit
        do {
            exit = try ChildExit(starting: process)
        } catch {
            throw MVError("cannot run the \(name) hook '\(path.path)': \(error.localizedDescription)")
        }
        if let input {
            // A hook may exit without reading its input; a closed pipe is not an error here.
            signal(SIGPIPE, SIG_IGN)
            try? pipe.fileHandleForWriting.write(contentsOf: input)
            try? pipe.fileHandleForWriting.close()
        }
        exit.wait()
        return process.shellStatus
    }

    /// Runs a hook whose failure must stop the write.
    func require(_ name: String, arguments: [String] = [], input: Data? = nil, environment: [String: String] = [:], refusing what: String)
        throws
    {
        guard let status = try run(name, arguments: arguments, input: input, environment: environment), status != 0 else { return }
        throw MVError(
            "the \(name) hook refused \(what) (exit status \(status)); nothing was written",
            hint: "see its output above; hooks live in \(directory.path)")
    }
}
