import Foundation
import TestSupport
import XCTest

/// `mv gate <ref> --stage S [--json]`: every rule with actual, bound and pass/fail; exit 1
/// when any fails.
final class GateCommandTests: GateTestBase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try initRepository()
        try trainGoodAndNoisy()
    }

    func testPassingVersionPrintsEveryRuleAsPass() throws {
        try writeConfig(Self.standardPolicy)
        let result = try mv("gate", "v1", "--stage", "production")
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "gate production for m@v1.0.0: passed", result.stdout)
        XCTAssertEqual(lines.count, 3, result.stdout)
        let rmse = try holdoutMetric("v1.0.0", "rmse")
        XCTAssertLessThan(rmse, 1)
        XCTAssertTrue(
            lines.contains { $0.hasPrefix("  pass  rmse <= 1.0  [actual ") && $0.contains(", bound 1]") && $0.hasSuffix("(.mv.yaml:7)") },
            result.stdout)
        XCTAssertTrue(
            lines.contains { $0.hasPrefix("  pass  r2 >= 0.9  [actual ") && $0.contains(", bound 0.9]") && $0.hasSuffix("(.mv.yaml:8)") },
            result.stdout)
        XCTAssertFalse(result.stdout.contains("FAIL"), result.stdout)
        // The default stage is production, and the model can be named.
        let byDefault = try mv("gate", "m@v1")
        XCTAssertEqual(byDefault.status, 0, byDefault.stdout + byDefault.stderr)
        XCTAssertEqual(byDefault.stdout, result.stdout)
    }

    func testFailingVersionPrintsFailLinesAndExitsOne() throws {
        try writeConfig(Self.standardPolicy)
        let before = try snapshot()
        let result = try mv("gate", "v2", "--stage", "staging")
        XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
        let rmse = try holdoutMetric("v2.0.0", "rmse")
        let r2 = try holdoutMetric("v2.0.0", "r2")
        XCTAssertGreaterThan(rmse, 1)
        XCTAssertLessThan(r2, 0.9)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "gate staging for m@v2.0.0: FAILED", result.stdout)
        XCTAssertTrue(
            lines.contains { $0.hasPrefix("  FAIL  rmse <= 1.0  [actual \(String(format: "%.6g", rmse)), bound 1]") }, result.stdout)
        XCTAssertTrue(
            lines.contains { $0.hasPrefix("  FAIL  r2 >= 0.9  [actual \(String(format: "%.6g", r2)), bound 0.9]") }, result.stdout)
        XCTAssertEqual(try snapshot(), before, "mv gate only reads")
    }

    func testJSONReport() throws {
        try writeConfig(Self.standardPolicy)
        let failing = try mv("gate", "v2", "--stage", "production", "--json")
        XCTAssertEqual(failing.status, 1, failing.stderr)
        let object = try json(failing)
        XCTAssertEqual(object["passed"] as? Bool, false)
        XCTAssertEqual(object["stage"] as? String, "production")
        XCTAssertEqual(object["model"] as? String, "m")
        XCTAssertEqual(object["version"] as? String, "v2.0.0")
        XCTAssertEqual(object["force_allowed"] as? Bool, false)
        let checks = try XCTUnwrap(object["checks"] as? [[String: Any]])
        XCTAssertEqual(checks.map { $0["rule"] as? String }, ["rmse <= 1.0", "r2 >= 0.9"])
        XCTAssertEqual(checks.map { $0["passed"] as? Bool }, [false, false])
        XCTAssertEqual(checks.map { $0["line"] as? Int }, [7, 8])
        XCTAssertEqual(checks[0]["threshold"] as? Double, 1.0)
        XCTAssertEqual(checks[1]["threshold"] as? Double, 0.9)
        XCTAssertEqual(try XCTUnwrap(checks[0]["actual"] as? Double), try holdoutMetric("v2.0.0", "rmse"), accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(checks[1]["actual"] as? Double), try holdoutMetric("v2.0.0", "r2"), accuracy: 1e-9)

        let passing = try mv("gate", "v1", "--stage", "staging", "--json")
        XCTAssertEqual(passing.status, 0, passing.stderr)
        let good = try json(passing)
        XCTAssertEqual(good["passed"] as? Bool, true)
        XCTAssertEqual((good["checks"] as? [[String: Any]])?.map { $0["passed"] as? Bool }, [true, true])
    }

    func testRelativeRulePassesWithoutHolderAndFailsAgainstABetterHolder() throws {
        try writeConfig(
            """
            gates:
              - stage: production
                rules:
                  - rmse <= production.rmse + 10%
                  - r2 >= production.r2 - 0.01
            """)
        let alone = try mv("gate", "v2", "--stage", "production")
        XCTAssertEqual(alone.status, 0, alone.stdout + alone.stderr)
        XCTAssertTrue(alone.stdout.contains("no current production holder"), alone.stdout)

        let promote = try mv("promote", "v1")
        XCTAssertEqual(promote.status, 0, promote.stderr)

        let result = try mv("gate", "v2", "--stage", "production", "--json")
        XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
        let checks = try XCTUnwrap(try json(result)["checks"] as? [[String: Any]])
        XCTAssertEqual(checks.map { $0["passed"] as? Bool }, [false, false])
        let v1rmse = try holdoutMetric("v1.0.0", "rmse")
        let v1r2 = try holdoutMetric("v1.0.0", "r2")
        XCTAssertEqual(try XCTUnwrap(checks[0]["threshold"] as? Double), v1rmse * 1.1, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(checks[1]["threshold"] as? Double), v1r2 - 0.01, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(checks[0]["actual"] as? Double), try holdoutMetric("v2.0.0", "rmse"), accuracy: 1e-9)
        let text = try mv("gate", "v2", "--stage", "production")
        XCTAssertTrue(text.stdout.contains("vs production holder v1.0.0"), text.stdout)

        // The holder itself is no worse than itself.
        XCTAssertEqual(try mv("gate", "v1", "--stage", "production").status, 0)
        // A noisy holder makes the rule easy: the good version passes against it.
        XCTAssertEqual(try mv("gate", "v1", "--stage", "staging").stdout, "gate staging for m@v1.0.0: no rules\n")
    }

    func testRequireEvaluationsFailsUntilTheEvaluationExists() throws {
        try writeConfig(
            """
            gates:
              - stage: staging
                require_evaluations: [test]
                rules:
                  - test.r2 >= 0.9
            """)
        let before = try mv("gate", "v1", "--stage", "staging")
        XCTAssertEqual(before.status, 1, before.stdout + before.stderr)
        XCTAssertTrue(before.stdout.contains("FAIL  evaluation 'test' present"), before.stdout)
        XCTAssertTrue(before.stdout.contains("--name test"), before.stdout)
        XCTAssertTrue(before.stdout.contains("FAIL  test.r2 >= 0.9  [no evaluation 'test']"), before.stdout)
        XCTAssertNotEqual(try mv("promote", "v1", "--stage", "staging").status, 0)

        _ = try write(Self.linearCSV(rows: 100, seed: 9), to: "test.csv")
        let eval = try mv("eval", "v1", "--data", "test.csv", "--name", "test")
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let after = try mv("gate", "v1", "--stage", "staging")
        XCTAssertEqual(after.status, 0, after.stdout + after.stderr)
        XCTAssertTrue(after.stdout.contains("pass  evaluation 'test' present"), after.stdout)
        XCTAssertTrue(after.stdout.contains("pass  test.r2 >= 0.9  [actual "), after.stdout)
        // Only v1 was evaluated.
        XCTAssertEqual(try mv("gate", "v2", "--stage", "staging").status, 1)
        XCTAssertEqual(try mv("promote", "v1", "--stage", "staging").status, 0)
    }

    func testRequireFields() throws {
        _ = try write(
            """
            import os, numpy
            numpy.save(os.path.join(os.environ['MV_OUTPUT_DIR'], 'w.npy'), numpy.ones(2))
            """, to: "train.py")
        try git("add", "train.py")
        try git("commit", "-q", "-m", "script")
        XCTAssertEqual(try mv("train", "nodata", "--", "python3", "train.py").status, 0)
        try writeConfig(
            """
            gates:
              - stage: production
                require_fields: [lineage.data, lineage.code.commit]
              - stage: staging
                require_fields: [hyperparameters.epochs]
            """)
        let pass = try mv("gate", "m@v1", "--stage", "production")
        XCTAssertEqual(pass.status, 0, pass.stdout + pass.stderr)
        XCTAssertTrue(pass.stdout.contains("pass  field 'lineage.data' present"), pass.stdout)
        XCTAssertTrue(pass.stdout.contains("pass  field 'lineage.code.commit' present"), pass.stdout)

        let noData = try mv("gate", "nodata@v1", "--stage", "production")
        XCTAssertEqual(noData.status, 1, noData.stdout + noData.stderr)
        XCTAssertTrue(noData.stdout.contains("FAIL  field 'lineage.data' present  [missing from model.yaml]"), noData.stdout)
        XCTAssertTrue(noData.stdout.contains("pass  field 'lineage.code.commit' present"), noData.stdout)

        let missing = try mv("gate", "m@v1", "--stage", "staging")
        XCTAssertEqual(missing.status, 1, missing.stdout + missing.stderr)
        XCTAssertTrue(missing.stdout.contains("FAIL  field 'hyperparameters.epochs' present"), missing.stdout)
    }

    func testGateForAnotherModelDoesNotApply() throws {
        try writeConfig(
            """
            gates:
              - stage: production
                model: other
                rules: [rmse <= 0.0001]
            """)
        let result = try mv("gate", "v2", "--stage", "production")
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("no rules"), result.stdout)
        XCTAssertEqual(try mv("promote", "v2").status, 0)
    }

    /// Gates are read from the work tree's `.mv.yaml`, committed or not.
    func testGatesComeFromTheWorkTreeFile() throws {
        try writeConfig(Self.standardPolicy, commit: false)
        XCTAssertEqual(try mv("gate", "v2", "--stage", "production").status, 1)
    }
}
