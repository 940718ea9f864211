import ArgumentParser
import Foundation
import Registry

struct Hooks: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hooks",
        abstract: "Install or remove mv's git hooks (metric gates for git, gto and pushes).",
        subcommands: [Install.self, Uninstall.self, PrintHook.self])

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "install",
            abstract: "Install pre-commit, pre-push, reference-transaction, post-checkout and post-merge (or, with --server, pre-receive).",
            discussion: "Respects core.hooksPath. A hook already there is kept and runs first (renamed <name>.mv-chained).")

        @Flag(help: "Install the server-side pre-receive hook (for a bare repository people push to).")
        var server = false

        @OptionGroup var options: RepositoryOptions

        func run() throws {
            let registry = try options.open()
            let command = Executable.hookCommand()
            let installed = try registry.installHooks(server ? GitHook.server : GitHook.client, mvCommand: command)
            for (hook, chained) in installed {
                print("installed \(hook.rawValue)" + (chained ? " (runs your existing hook first)" : ""))
            }
            print("hooks folder: \(registry.hooksDirectory.path); mv: \(command)")
        }
    }

    struct Uninstall: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "uninstall", abstract: "Remove mv's hooks and restore the hooks they chained.")

        @OptionGroup var options: RepositoryOptions

        func run() throws {
            let removed = try options.open().uninstallHooks()
            if removed.isEmpty { print("no mv hooks installed") }
            for (hook, restored) in removed {
                print("removed \(hook.rawValue)" + (restored ? " (your previous hook is back)" : ""))
            }
        }
    }

    struct PrintHook: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "print", abstract: "Print a hook script (as in Hooks/).")

        @Argument(help: "pre-commit, pre-push, reference-transaction, post-checkout, post-merge or pre-receive.")
        var name: String

        func validate() throws {
            guard GitHook(rawValue: name) != nil else {
                throw ValidationError("unknown hook '\(name)': \(GitHook.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() throws {
            guard let hook = GitHook(rawValue: name) else { return }
            print(Registry.hookScript(hook, mvCommand: "git-model"), terminator: "")
        }
    }
}

/// `mv hook <name>`: what the installed hook scripts call.
struct Hook: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook", abstract: "Run one of mv's git hook checks (called by the installed hooks).", shouldDisplay: false)

    @Argument(help: "The hook.")
    var name: String

    @Argument(parsing: .captureForPassthrough, help: "The arguments git gave the hook.")
    var arguments: [String] = []

    func run() throws {
        guard let hook = GitHook(rawValue: name) else { throw ValidationError("unknown hook '\(name)'") }
        let input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        let lines = input.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        let here = FileManager.default.currentDirectoryPath
        if hook == .preReceive {
            // <old sha> <new sha> <ref>
            let updates = lines.filter { $0.count == 3 }.map { RefUpdate(ref: $0[2], new: $0[1]) }
            _ = try Registry.openForReceive(at: here, updates: updates).checkStageAssignments(updates, pending: updates)
            return
        }
        let registry = try Registry.openForHook(at: here)
        switch hook {
        case .preCommit:
            _ = try registry.checkStagedModels()
        case .referenceTransaction:
            guard arguments.first == "prepared" else { return }
            let updates = lines.filter { $0.count == 3 }.map { RefUpdate(ref: $0[2], new: $0[1]) }
            _ = try registry.checkStageAssignments(updates)
        case .prePush:
            // <local ref> <local sha> <remote ref> <remote sha>
            let updates = lines.filter { $0.count == 4 }.map { RefUpdate(ref: $0[2], new: $0[1]) }
            _ = try registry.checkStageAssignments(updates, pending: updates)
        case .postCheckout, .postMerge:
            // Git has already changed the work tree; a failure here must not look like a failed checkout.
            do {
                for path in try registry.reassembleWorkTree() { FileHandle.standardError.write(Data("mv: rebuilt \(path)\n".utf8)) }
            } catch {
                FileHandle.standardError.write(Data("mv: could not rebuild chunked tensors (\(error)); run 'mv init' to retry\n".utf8))
            }
        case .preReceive:
            break
        }
    }
}
