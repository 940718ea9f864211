import Foundation
import Registry
import SystemIO

/// A replica's source of stage moves: `git fetch <remote> +refs/tags/*:refs/tags/*` through
/// the git CLI, so the user's credentials, ssh configuration and proxies apply. Tags bring
/// the commits, trees and tensor blobs they point at; branches are not needed to serve.
public struct RemoteTags: Sendable {
    public let repositoryPath: String
    public let remote: String
    public let every: Duration
    /// Longest a fetch may take before it is stopped and counted as failed.
    public let timeout: Duration

    public init(repositoryPath: String, remote: String, every: Duration, timeout: Duration = .seconds(300)) {
        self.repositoryPath = repositoryPath
        self.remote = remote
        self.every = every
        self.timeout = timeout
    }

    /// The remote must exist: a typo is an error at start, not a log line every 30 s.
    func check() throws {
        let result = try git(["remote", "get-url", remote])
        guard result.status == 0 else {
            throw MVError(
                "no remote '\(remote)' in '\(repositoryPath)'",
                hint: "git remote -v lists them; add one with git remote add \(remote) URL")
        }
    }

    func fetch() throws {
        let result = try git(["fetch", "--quiet", "--no-write-fetch-head", remote, "+refs/tags/*:refs/tags/*"])
        guard result.status == 0 else {
            let reason = result.error.split(separator: "\n").first.map(String.init) ?? "exit status \(result.status)"
            throw MVError("fetching tags from '\(remote)' failed: \(reason)")
        }
    }

    private func git(_ arguments: [String]) throws -> (status: Int32, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", repositoryPath] + arguments
        var environment = ProcessInfo.processInfo.environment
        // A fetch must never wait for a password nobody will type.
        environment["GIT_TERMINAL_PROMPT"] = "0"
        environment["GIT_SSH_COMMAND"] = environment["GIT_SSH_COMMAND"] ?? "ssh -o BatchMode=yes"
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let exit: ChildExit
        do { exit = try ChildExit(starting: process) } catch { throw MVError("cannot run git: \(error.localizedDescription)") }
        // Read stderr beside the wait, so a git that hangs can still be stopped.
        let collected = Background { errors.fileHandleForReading.readDataToEndOfFile() }
        if !exit.wait(atMost: timeout.seconds) {
            // SIGKILL: the SIGTERM mv serve ignores (to drain on it) is ignored by its children too.
            kill(process.processIdentifier, SIGKILL)
            exit.wait()
            return (124, "no answer within \(Int(timeout.seconds)) s")
        }
        // A child of git's (ssh) may hold stderr open after git is gone: do not wait for it long.
        let text = (try? collected.wait(atMost: 5)?.get()) ?? Data()
        return (process.terminationStatus, String(decoding: text, as: UTF8.self))
    }
}
