import Foundation
import Git
import TestSupport
import XCTest

@testable import Registry

/// What users type to name a version, resolved against tags written with plain git.
final class ResolutionTests: GitTestCase {
    private var commits: [String] = []

    override func setUpWithError() throws {
        try super.setUpWithError()
        try git("init", "-q", "-b", "main")
        for (index, folder) in ["churn", "churn", "fraud"].enumerated() {
            _ = try write("name: \(folder)\nround: \(index)\n", to: "models/\(folder)/model.yaml")
            try git("add", "-A")
            try git("commit", "-q", "-m", "round \(index)")
            commits.append(try git("rev-parse", "HEAD"))
        }
        for (tag, commit) in [
            ("churn@v1.0.0", 0), ("churn@v2.0.0", 1), ("churn@v3.0.0", 2), ("fraud@v1.0.0", 2),
            ("churn#production#1", 0), ("churn#staging#2", 1), ("churn@v3.0.0!", 2),
        ] {
            try git("tag", "-a", "-m", tag, tag, commits[commit])
        }
    }

    private func resolve(_ text: String, model: String? = nil) throws -> ResolvedVersion {
        try Registry.open(at: root.path).resolve(text, model: model)
    }

    private func assertRefused(_ text: String, model: String? = nil, _ expected: String, file: StaticString = #filePath, line: UInt = #line)
    {
        XCTAssertThrowsError(try resolve(text, model: model), file: file, line: line) {
            XCTAssertTrue("\($0)".contains(expected), "\(text): \($0)", file: file, line: line)
        }
    }

    func testVersionsAndShorthands() throws {
        XCTAssertEqual(try resolve("churn@v2").version, SemanticVersion(major: 2))
        XCTAssertEqual(try resolve("churn@v2.0.0").commit.description, commits[1])
        XCTAssertEqual(try resolve("churn@v1").label, "churn@v1.0.0")
        XCTAssertEqual(try resolve("v1", model: "churn").commit.description, commits[0])
        XCTAssertEqual(try resolve("v1", model: "fraud").commit.description, commits[2])
    }

    func testLatestSkipsDeprecatedVersions() throws {
        XCTAssertEqual(try resolve("churn@latest").version, SemanticVersion(major: 2), "v3 is deprecated")
        XCTAssertEqual(try resolve("churn").version, SemanticVersion(major: 2))
        XCTAssertEqual(try resolve("churn@v3").version, SemanticVersion(major: 3), "named explicitly, a deprecated version resolves")
    }

    func testStagesResolveToTheirHolder() throws {
        XCTAssertEqual(try resolve("churn#production").version, SemanticVersion(major: 1))
        XCTAssertEqual(try resolve("churn#staging").commit.description, commits[1])
        assertRefused("churn#canary", "no version of 'churn' holds stage 'canary'")
    }

    func testGitRevisionsFindTheModelFolder() throws {
        let head = try resolve("HEAD~2", model: "churn")
        XCTAssertEqual(head.version, SemanticVersion(major: 1), "the version tag on that commit")
        XCTAssertEqual(try resolve(commits[1]).version, SemanticVersion(major: 2), "one model folder in that commit's tree")
        assertRefused("HEAD", "holds 2 models; say which with --model")
    }

    func testMistakesSayWhatIsKnown() throws {
        assertRefused("v1", "'v1' is ambiguous: this repository holds 2 models (churn, fraud)")
        assertRefused("churn@v9", "'churn' has no version v9.0.0")
        assertRefused("nosuch@v1", "unknown model 'nosuch': it has no versions")
        assertRefused("no-such-thing", "unknown model 'no-such-thing'")
        assertRefused("churn@v1.x", "invalid version 'v1.x'")
        assertRefused("../x@v1", "invalid model name '../x'")
        assertRefused("a b", "unknown version or revision 'a b'")
    }
}
