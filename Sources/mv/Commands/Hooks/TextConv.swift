import ArgumentParser
import Foundation
import ModelFormat
import Registry

struct TextConv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "textconv",
        abstract: "Print an .npy file as text (git's diff driver for tensors).",
        shouldDisplay: false)

    @Argument(help: "The .npy file git passes.")
    var file: String

    func run() throws {
        // Never fail: git shows whatever a textconv prints, and a diff must not break on a bad file.
        let data = Registry.tensorBytes(
            (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data(), repositoryAt: FileManager.default.currentDirectoryPath)
        print(TensorText.render(npyData: data, fileName: URL(fileURLWithPath: file).lastPathComponent), terminator: "")
    }
}
