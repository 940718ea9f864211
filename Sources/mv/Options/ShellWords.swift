import ArgumentParser

/// Splits a command typed as one argument ('python3 "my predictor.py" --fast') into argv:
/// words at spaces, single and double quotes grouping, a backslash escaping one character.
enum ShellWords {
    static func split(_ text: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
                continue
            }
            switch (character, quote) {
            case ("\\", let q) where q != "'":
                escaped = true
                inWord = true
            case ("'", nil), ("\"", nil):
                quote = character
                inWord = true
            case (let c, let q?) where c == q:
                quote = nil
            case (" ", nil), ("\t", nil):
                if inWord { words.append(current) }
                current = ""
                inWord = false
            default:
                current.append(character)
                inWord = true
            }
        }
        guard quote == nil, !escaped else { throw ValidationError("unbalanced quote in '\(text)'") }
        if inWord { words.append(current) }
        guard !words.isEmpty else { throw ValidationError("the command is empty") }
        return words
    }
}
