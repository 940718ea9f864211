import Foundation

/// A command's result as a person reads it on a terminal and as a script reads it with
/// --json. Commands compute results through the domain and hand them here; nothing else
/// in the CLI formats output.
protocol Rendered {
    /// Lines for a terminal (with a final newline where there is text).
    var text: String { get }
    /// A JSON value (dictionaries, arrays, strings, numbers, NSNull).
    var json: Any { get }
}

/// Where a command's result goes: stdout, as text or (with --json) as JSON.
struct Output {
    let json: Bool

    func emit(_ result: some Rendered) throws {
        if json {
            try Terminal.json(result.json)
        } else {
            print(result.text, terminator: "")
        }
    }
}
