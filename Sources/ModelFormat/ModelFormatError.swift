import Foundation

/// Problems with mv's own files (manifests, reports, user-supplied metrics or
/// hyperparameters), each a single line naming the file and the fix.
public enum ModelFormatError: Error, CustomStringConvertible, LocalizedError, Equatable {
    case malformedYAML(file: String, detail: String)
    case malformedJSON(file: String, detail: String)
    case invalidField(file: String, field: String, problem: String)
    case missingField(file: String, field: String)
    case unsupportedFormat(file: String, found: Int, supported: Int)

    public var description: String {
        switch self {
        case .malformedYAML(let file, let detail): return "'\(file)' is not valid YAML (\(detail))"
        case .malformedJSON(let file, let detail): return "'\(file)' is not valid JSON (\(detail))"
        case .invalidField(let file, let field, let problem): return "'\(file)': field '\(field)' \(problem)"
        case .missingField(let file, let field): return "'\(file)' has no '\(field)' field"
        case .unsupportedFormat(let file, let found, let supported):
            return "'\(file)' uses manifest format \(found), but this mv reads format \(supported) or older; upgrade mv"
        }
    }

    public var errorDescription: String? { description }
}
