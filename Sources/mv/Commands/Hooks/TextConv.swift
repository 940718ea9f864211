import ArgumentParser
import Foundation
import ModelFormat

struct TextConv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "textconv",
        abstract: "Print an .npy file as text (git's diff driver for tensors).",
        shouldDisplay: false)

    @Argument(help: "The .npy file git passes.")
    var file: String

    func run() throws {
        // Never fail: git shows whatever a textconv prints, and a diff must not break on a bad file.
        let data = (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()
        print(TensorText.render(npyData: data, fileName: URL(fileURLWithPath: file).lastPathComponent), terminator: "")
    }
}
