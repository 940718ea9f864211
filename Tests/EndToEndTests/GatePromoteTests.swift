import Foundation
import TestSupport
import XCTest

/// `mv promote` refuses a version that fails the stage's gate, and `--force --reason`
/// overrides only where the gate allows it, recording the override in the stage tag.
final class GatePromoteTests: GateTestBase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try initRepository()
        try trainGoodAndNoisy()
        try writeConfig(Self.standardPolicy)
    }

    func testFailingVersionIsRefusedAndNothingChanges() throws {
        let before = try snapshot()
        let result = try mv("promote", "v2")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(result.stdout, "")
        // The report on stderr, then the error line naming the failed rules.
        XCTAssertTrue(result.stderr.contains("gate production for m@v2.0.0: FAILED"), result.stderr)
        XCTAssertTrue(result.stderr.contains("  FAIL  rmse <= 1.0  [actual "), result.stderr)
        XCTAssertTrue(result.stderr.contains("  FAIL  r2 >= 0.9  [actual "), result.stderr)
        XCTAssertTrue(
            result.stderr.contains("mv: error: cannot promote m@v2.0.0 to 'production': gate failed: rmse <= 1.0 (got "), result.stderr)
        XCTAssertTrue(result.stderr.contains("does not allow --force"), "the hint says force is not possible: \(result.stderr)")
        XCTAssertEqual(try snapshot(), before)
        XCTAssertEqual(try tags("m#*"), [])
    }

    func testPassingVersionIsPromoted() throws {
        let result = try mv("promote", "v1")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("Gate production: passed (2 checks)"), result.stdout)
        let stageTags = try tags("m#production#*")
        XCTAssertEqual(stageTags.count, 1)
        XCTAssertEqual(try commit(of: stageTags[0]), try commit(of: "m@v1.0.0"))
        XCTAssertFalse(try git("cat-file", "-p", stageTags[0]).contains("Gate-Override"))
    }

    func testForceWithoutReasonIsRefused() throws {
        let before = try snapshot()
        let result = try mv("promote", "v2", "--stage", "staging", "--force")
        assertOneLineError(result, mentions: ["--force needs a reason"])
        XCTAssertEqual(try snapshot(), before)
        XCTAssertEqual(try tags("m#*"), [])
        // A blank reason is no reason.
        assertOneLineError(try mv("promote", "v2", "--stage", "staging", "--force", "--reason", "  "), mentions: ["--force needs a reason"])
        XCTAssertEqual(try snapshot(), before)
    }

    func testForceWhereTheGateDoesNotAllowItIsRefused() throws {
        let before = try snapshot()
        let result = try mv("promote", "v2", "--stage", "production", "--force", "--reason", "the boss said so")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(
            result.stderr.contains("mv: error: cannot promote m@v2.0.0 to 'production': the 'production' gate does not allow --force"),
            result.stderr)
        XCTAssertTrue(result.stderr.contains("  FAIL  rmse <= 1.0"), "the report is shown: \(result.stderr)")
        XCTAssertEqual(try snapshot(), before)
        XCTAssertEqual(try tags("m#*"), [])
    }

    func testForceWithReasonWhereAllowedRecordsTheOverride() throws {
        let reason = "demo for the sales team"
        let result = try mv("promote", "v2", "--stage", "staging", "--force", "--reason", reason)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("Gate staging: FAILED, overridden with --force"), result.stdout)
        let stageTags = try tags("m#staging#*")
        XCTAssertEqual(stageTags.count, 1, "\(stageTags)")
        let name = try XCTUnwrap(stageTags.first)
        XCTAssertEqual(try commit(of: name), try commit(of: "m@v2.0.0"))
        let tag = try git("cat-file", "-p", name)
        XCTAssertTrue(tag.contains("\nGate-Override: \(reason)\n"), tag)
        let rmse = String(format: "%.6g", try holdoutMetric("v2.0.0", "rmse"))
        XCTAssertTrue(tag.contains("\nGate-Failed: rmse <= 1.0 (got \(rmse))"), tag)
        XCTAssertTrue(tag.contains("\nGate-Failed: r2 >= 0.9 (got "), tag)
        // git reads them as trailers.
        let trailers = try git("for-each-ref", "refs/tags/\(name)", "--format=%(trailers:key=Gate-Override,valueonly)")
        XCTAssertEqual(trailers, reason)
        XCTAssertEqual(
            try git("for-each-ref", "refs/tags/\(name)", "--format=%(trailers:key=Gate-Failed,valueonly)").split(separator: "\n").count, 2)
        // The stage now holds v2.
        let list = try mv("list", "--json")
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("v2.0.0"), list.stdout)
    }

    func testForceOnAPassingVersionRecordsNoOverride() throws {
        let result = try mv("promote", "v1", "--stage", "staging", "--force", "--reason", "not needed")
        XCTAssertEqual(result.status, 0, result.stderr)
        let name = try XCTUnwrap(try tags("m#staging#*").first)
        XCTAssertFalse(try git("cat-file", "-p", name).contains("Gate-Override"))
    }

    /// A rollback to a version failing an absolute rule is refused too.
    func testRollbackToAFailingVersionIsRefused() throws {
        try writeConfig(
            """
            gates:
              - stage: staging
                rules: [rmse <= 1.0]
                allow_force: true
            """)
        XCTAssertEqual(try mv("promote", "v2", "--stage", "staging", "--force", "--reason", "r").status, 0)
        XCTAssertEqual(try mv("promote", "v1", "--stage", "staging").status, 0)
        let before = try snapshot()
        let result = try mv("rollback", "m", "--stage", "staging")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("FAIL  rmse <= 1.0"), result.stderr)
        XCTAssertEqual(try snapshot(), before)
    }
}
