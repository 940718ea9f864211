import ArgumentParser
import Foundation
import Registry

/// `mv hook <name>`: what the installed hook scripts call.
struct Hook: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook", abstract: "Run one of mv's git hook checks (called by the installed hooks).", shouldDisplay: false)

    @Argument(help: "The hook.")
    var hook: GitHook

    @Argument(parsing: .captureForPassthrough, help: "The arguments git gave the hook.")
    var arguments: [String] = []

    func run() throws {
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
        registry.notice = Terminal.notice
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
