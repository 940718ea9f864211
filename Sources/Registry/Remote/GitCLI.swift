import Foundation
import SystemIO

/// The git command line, for what travels between repositories (fetch, push, clone,
/// ls-remote): libgit2 1.5 lacks shallow and partial fetches, and the git CLI brings the
/// user's credentials, ssh configuration, proxies and hooks (the pre-push gate) with it.
public struct GitCLI: Sendable {
    /// Where git runs (`git -C`).
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// Runs git with its output captured; `input` is written to its standard input.
    public func run(_ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String, error: String) {
        let process = git(arguments)
        // Captured output means nobody sees a prompt: fail instead of waiting for one.
        process.environment?["GIT_TERMINAL_PROMPT"] = "0"
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        // Input goes through a file: a git that stops reading early (an error in the middle of
        // `update-ref --stdin`) can neither block mv nor kill it with SIGPIPE.
        var inputFile: URL?
        defer { if let inputFile { try? FileManager.default.removeItem(at: inputFile) } }
        if let input {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("mv-git-input-\(UUID().uuidString)")
            try Data(input.utf8).write(to: file)
            inputFile = file
            process.standardInput = try FileHandle(forReadingFrom: file)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        let exit = try Self.start(process)
        // Both pipes drained while git runs, so neither can fill up and stall it.
        let errorText = Background { errors.fileHandleForReading.readDataToEndOfFile() }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        exit.wait()
        let errorData = (try? errorText.wait(atMost: 30)?.get()) ?? Data()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    /// `git config --get key` (in `file` when given): the value, or nil when it is unset or empty.
    public func config(_ key: String, file: String? = nil) throws -> String? {
        let result = try run(["config"] + (file.map { ["--file", $0] } ?? []) + ["--get", key])
        let value = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return result.status == 0 && !value.isEmpty ? value : nil
    }

    /// Runs git with the terminal's standard input, output and error, so that progress, hook
    /// output and credential prompts reach the user; returns the exit status.
    public func runAttached(_ arguments: [String]) throws -> Int32 {
        let process = git(arguments)
        try Self.start(process).wait()
        return process.terminationStatus
    }

    /// Whether a person is at the terminal: then git talking to a remote may ask for
    /// credentials (an HTTPS remote without a credential helper) and show its progress.
    public static var interactive: Bool { isatty(STDIN_FILENO) == 1 && isatty(STDERR_FILENO) == 1 }

    /// Runs a git command that talks to a remote and returns its output. At a terminal, git
    /// keeps the terminal's input and error streams (so it can prompt, and its complaints are
    /// shown as it wrote them); elsewhere it runs captured with prompts off.
    public func remote(_ arguments: [String], doing what: String) throws -> String {
        guard Self.interactive else { return try check(arguments, doing: what) }
        let process = git(arguments)
        let output = Pipe()
        process.standardOutput = output
        let exit = try Self.start(process)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        exit.wait()
        guard process.terminationStatus == 0 else {
            throw MVError("\(what) failed (exit status \(process.terminationStatus))", hint: "git's message is above")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs git and returns its output; a failure is an error naming what was being done,
    /// with git's own first line of complaint.
    @discardableResult
    public func check(_ arguments: [String], doing what: String, input: String? = nil) throws -> String {
        let result = try run(arguments, input: input)
        guard result.status == 0 else {
            let reason =
                result.error.split(separator: "\n").first { !$0.hasPrefix("hint:") }.map(String.init) ?? "exit status \(result.status)"
            throw MVError("\(what) failed: \(reason)")
        }
        return result.output
    }

    /// `git -C <directory> <arguments>`, not started.
    private func git(_ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory.path] + arguments
        var environment = ProcessInfo.processInfo.environment
        // git-lfs, where installed, leaves pointer files in checkouts: mv brings the objects
        // the versions need itself (not every version's) and writes the files.
        environment["GIT_LFS_SKIP_SMUDGE"] = "1"
        process.environment = environment
        return process
    }

    private static func start(_ process: Process) throws -> ChildExit {
        do { return try ChildExit(starting: process) } catch {
            throw MVError("cannot run git: \(error.localizedDescription)", hint: "install git")
        }
    }
}
