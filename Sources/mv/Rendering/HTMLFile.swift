import Foundation
import Registry

/// Writes a page for `mv report` and `mv diff --html`: to standard output for `-`, else
/// atomically to the file (a reader never sees half a page), then says where it went.
enum HTMLFile {
    static func write(_ page: String, to output: String, options: RepositoryOptions, open: Bool = false) throws {
        if output == "-" {
            print(page, terminator: "")
            return
        }
        let url = options.url(output)
        do {
            try Data(page.utf8).write(to: url, options: .atomic)
        } catch {
            throw MVError("cannot write '\(url.path)': \(error.localizedDescription)", hint: "pick a folder you can write to with -o")
        }
        print("wrote \(url.path) (\(page.utf8.count / 1024 + 1) KiB)")
        if open { openInBrowser(url) }
    }

    /// Hands the file to the desktop's opener; where there is none (a server, CI), says so
    /// and leaves the written file as the result.
    static func openInBrowser(_ url: URL) {
        let opener = ["/usr/bin/xdg-open", "/usr/bin/open"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let opener else {
            FileHandle.standardError.write(Data("mv: no xdg-open here to open the page; open \(url.path) in a browser\n".utf8))
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: opener)
        process.arguments = [url.path]
        do { try process.run() } catch {
            FileHandle.standardError.write(Data("mv: could not run \(opener): \(error.localizedDescription)\n".utf8))
        }
    }
}
