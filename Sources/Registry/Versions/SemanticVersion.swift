import Foundation

/// A model version `vMAJOR.MINOR.PATCH`, the form GTO reads from tags. On the command line
/// `v3` and `v3.1` are shorthand for `v3.0.0` and `v3.1.0`.
public struct SemanticVersion: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let patch: Int

    public init(major: Int, minor: Int = 0, patch: Int = 0) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses the strict tag form `v1.2.3`.
    public init?(tag text: String) {
        guard text.hasPrefix("v") else { return nil }
        let parts = text.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let numbers = SemanticVersion.numbers(parts) else { return nil }
        self.init(major: numbers[0], minor: numbers[1], patch: numbers[2])
    }

    /// Parses what a user types: `v3`, `3`, `v3.1`, `v3.1.2`.
    public init(userInput text: String) throws {
        let body = text.hasPrefix("v") ? text.dropFirst() : Substring(text)
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), let numbers = SemanticVersion.numbers(parts) else {
            throw MVError(
                "invalid version '\(text)': expected vMAJOR[.MINOR[.PATCH]] with numbers up to \(Self.largestNumber), e.g. v3 or v3.1.0")
        }
        self.init(major: numbers[0], minor: numbers.count > 1 ? numbers[1] : 0, patch: numbers.count > 2 ? numbers[2] : 0)
    }

    /// The largest number in a version mv reads or writes: nine digits, so that the next
    /// version of any version can always be counted (a tag with a larger number is not one
    /// of mv's versions).
    public static let largestNumber = 999_999_999

    /// The next major version: `v(N+1).0.0` for the highest major N in `versions`.
    public static func nextMajor(after versions: some Sequence<SemanticVersion>) throws -> SemanticVersion {
        let highest = versions.map(\.major).max() ?? 0
        guard highest < largestNumber else {
            throw MVError(
                "no next version after v\(highest).0.0: mv numbers versions up to v\(largestNumber)",
                hint: "name the version with --version (its minor or patch number)")
        }
        return SemanticVersion(major: highest + 1)
    }

    private static func numbers(_ parts: [Substring]) -> [Int]? {
        var values: [Int] = []
        for part in parts {
            // Semver forbids leading zeros; GTO would not read them back.
            guard !part.isEmpty, part.count <= 9, part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber),
                part == "0" || !part.hasPrefix("0"), let value = Int(part)
            else { return nil }
            values.append(value)
        }
        return values
    }

    public var description: String { "v\(major).\(minor).\(patch)" }

    public static func < (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }
}
