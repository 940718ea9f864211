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
        static let configuration = CommandConfiguration(
            commandName: "uninstall", abstract: "Remove mv's hooks and restore the hooks they chained.")

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

        @Argument(help: "The hook.")
        var hook: GitHook

        func run() throws {
            print(Registry.hookScript(hook, mvCommand: "git-model"), terminator: "")
        }
    }
}
