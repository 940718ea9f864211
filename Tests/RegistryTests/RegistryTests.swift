import Foundation
import Git
import TestSupport
import XCTest

@testable import Registry

final class NamingTests: XCTestCase {
    func testModelNamesFollowGTOsRuleWithoutSlash() throws {
        for good in ["churn", "a", "A1", "fraud-detector", "x_y", "9lives"] {
            XCTAssertEqual(try ModelName(good).value, good)
        }
        for bad in ["", "../x", "..", "a/b", "-a", "a-", "_a", "a.b", "a b", "a@b", "a#b", "ü", String(repeating: "a", count: 101)] {
            XCTAssertThrowsError(try ModelName(bad), bad) { error in
                XCTAssertTrue("\(error)".hasPrefix("invalid model name '\(bad)': use letters, digits"), "\(error)")
            }
        }
    }

    func testVersionsParseStrictTagsAndUserShorthand() throws {
        XCTAssertEqual(SemanticVersion(tag: "v1.2.3"), SemanticVersion(major: 1, minor: 2, patch: 3))
        XCTAssertNil(SemanticVersion(tag: "v1.2"))
        XCTAssertNil(SemanticVersion(tag: "1.2.3"))
        XCTAssertNil(SemanticVersion(tag: "v01.2.3"))
        XCTAssertNil(SemanticVersion(tag: "v1.2.3-rc1"))
        XCTAssertEqual(try SemanticVersion(userInput: "v3").description, "v3.0.0")
        XCTAssertEqual(try SemanticVersion(userInput: "3.1").description, "v3.1.0")
        XCTAssertEqual(try SemanticVersion(userInput: "v3.1.2").description, "v3.1.2")
        XCTAssertThrowsError(try SemanticVersion(userInput: "latest"))
        XCTAssertThrowsError(try SemanticVersion(userInput: "v1.2.3.4"))
        XCTAssertLessThan(SemanticVersion(major: 2, minor: 9), SemanticVersion(major: 10))
    }

    func testTagGrammar() throws {
        let model = try ModelName("churn")
        XCTAssertEqual(TagNames.version(model, SemanticVersion(major: 3)), "churn@v3.0.0")
        XCTAssertEqual(TagNames.parseVersion(ref: "refs/tags/churn@v3.0.0")?.version, SemanticVersion(major: 3))
        XCTAssertNil(TagNames.parseVersion(ref: "refs/tags/churn@v3.0.0!"), "GTO's deregistration tag is not a version")
        XCTAssertNil(TagNames.parseVersion(ref: "refs/tags/churn#production#1"))
        XCTAssertNil(TagNames.parseVersion(ref: "refs/tags/churn@v3"))
        XCTAssertNil(TagNames.parseVersion(ref: "refs/heads/churn@v3.0.0"))
    }

    func testConfigIsParsedStrictly() throws {
        let config = try RegistryConfig.parse("format: 1\nmodels_root: ml/models/\nstages: [dev, prod]\n")
        XCTAssertEqual(config.modelsRoot, "ml/models")
        XCTAssertEqual(config.stages, ["dev", "prod"])
        let defaults = try RegistryConfig.parse(RegistryConfig().yaml())
        XCTAssertEqual(defaults.modelsRoot, "models")
        XCTAssertEqual(defaults.stages, ["staging", "production"])
        XCTAssertTrue(defaults.gates.isEmpty)
        let cases: [(String, String)] = [
            ("modelsroot: x\n", "unknown setting 'modelsroot'"),
            ("models_root: ../x\n", "'models_root' must be a relative folder"),
            ("models_root: /abs\n", "'models_root' must be a relative folder"),
            ("stages: production\n", "'stages' must be a list"),
            ("stages: [a/b]\n", "stage 'a/b' is not a valid name"),
            ("format: 99\n", "upgrade mv"),
            ("stages: [a\n", "not valid YAML"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try RegistryConfig.parse(text), text) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(text): \(error)")
            }
        }
    }
}

final class HistoryWriterTests: GitTestCase {
    /// A plain `git commit` lands between mv's commit object and its ref update: the
    /// compare-and-swap fails, mv withdraws its tag, rebuilds on the new tip and lands.
    func testLostRaceIsRetriedOnTheNewTip() throws {
        try git("init", "-q", "-b", "main")
        try git("commit", "-q", "--allow-empty", "-m", "base")
        let data = try write(Self.linearCSV(rows: 40), to: "train.csv")
        let registry = try Registry.open(at: root.path)
        let interloper: URL = root
        let raced = LockedFlag()
        registry.writer.beforeReferenceUpdate = {
            guard raced.setOnce() else { return }
            let result = try GitTestCase.run(["git", "commit", "-q", "--allow-empty", "-m", "interloper"], in: interloper)
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        setenv("GIT_AUTHOR_NAME", "Test Author", 1)
        setenv("GIT_AUTHOR_EMAIL", "author@example.com", 1)
        var request = TrainRequest(model: "m", data: data, target: "y")
        request.commandLine = ["mv", "train"]
        let result = try registry.train(request)
        XCTAssertEqual(result.version, "v1.0.0")
        XCTAssertEqual(
            try git("log", "--format=%s", "main").split(separator: "\n").map(String.init),
            [
                "m v1.0.0: rmse \(Registry.formatMetric(result.metrics[1].value)), r2 \(Registry.formatMetric(result.metrics[3].value)) (linear-regression)",
                "interloper", "base",
            ])
        XCTAssertEqual(try git("rev-parse", "m@v1.0.0^{commit}"), try git("rev-parse", "main"))
        XCTAssertEqual(try git("tag", "--list"), "m@v1.0.0")
        try git("fsck", "--strict")
    }

    func testTagTakenByAnotherWriterGetsTheNextNumber() throws {
        try git("init", "-q", "-b", "main")
        try git("commit", "-q", "--allow-empty", "-m", "base")
        let data = try write(Self.linearCSV(rows: 40), to: "train.csv")
        let registry = try Registry.open(at: root.path)
        let folder: URL = root
        let raced = LockedFlag()
        setenv("GIT_AUTHOR_NAME", "Test Author", 1)
        setenv("GIT_AUTHOR_EMAIL", "author@example.com", 1)
        // Someone registers v1.0.0 of the same model (e.g. with gto) while mv trains.
        registry.writer.beforeReferenceUpdate = {
            guard raced.setOnce() else { return }
            XCTAssertEqual(try GitTestCase.run(["git", "commit", "-q", "--allow-empty", "-m", "other v2"], in: folder).status, 0)
            XCTAssertEqual(try GitTestCase.run(["git", "tag", "-a", "-m", "by hand", "m@v2.0.0"], in: folder).status, 0)
        }
        let result = try registry.train(TrainRequest(model: "m", data: data, target: "y"))
        XCTAssertEqual(result.version, "v3.0.0", "v1 lost its branch race; the retry saw v2 taken by hand")
        XCTAssertEqual(try git("tag", "--list").split(separator: "\n"), ["m@v2.0.0", "m@v3.0.0"])
        XCTAssertEqual(try git("rev-parse", "m@v3.0.0^{commit}"), try git("rev-parse", "main"))
        try git("fsck", "--strict")
    }
}

/// A flag a @Sendable closure can flip once.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func setOnce() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if value { return false }
        value = true
        return true
    }
}
