import Foundation
import TestSupport
import XCTest

/// `.mv.yaml` gates are parsed strictly: every mistake is one error line naming
/// `.mv.yaml:<line>`, from any command that reads the configuration, and nothing changes.
final class GatePolicyTests: GateTestBase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try initRepository()
        _ = try write(Self.linearCSV(rows: 200), to: "good.csv")
        XCTAssertEqual(try mv("train", "m", "--data", "good.csv", "--target", "y").status, 0)
    }

    /// Writes the policy (not committed), then checks `mv gate`, `mv list` and `mv promote`
    /// all refuse with the same line, leaving the repository as it was.
    func assertPolicyError(
        _ policy: String, line expectedLine: Int, mentions: [String],
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        try writeConfig(policy, commit: false)
        let before = try snapshot()
        for arguments in [["gate", "v1", "--stage", "production"], ["list"], ["promote", "v1"]] {
            let result = try mv(arguments)
            assertOneLineError(result, mentions: [".mv.yaml:\(expectedLine):"] + mentions, file: file, line: line)
            XCTAssertEqual(result.stdout, "", "\(arguments)", file: file, line: line)
        }
        XCTAssertEqual(try snapshot(), before, file: file, line: line)
        XCTAssertEqual(try tags("m#*"), [], file: file, line: line)
    }

    func testMalformedRuleNamesItsLine() throws {
        try assertPolicyError(
            """
            gates:
              - stage: production
                rules:
                  - r2 >= 0.9
                  - rmse <== 0.5
            """, line: 8, mentions: ["malformed rule 'rmse <== 0.5'"])
    }

    func testOtherMalformedRules() throws {
        for rule in [
            "rmse 0.5", "rmse <=", "<= 0.5", "rmse <= 0.5%", "rmse <= production", "rmse <= production.rmse + lots",
            "rmse <= nan", "rmse >= 0.5 <= 1",
        ] {
            try assertPolicyError(
                """
                gates:
                  - stage: production
                    rules: ["\(rule)"]
                """, line: 6, mentions: ["'\(rule)'"])
        }
    }

    func testUnknownMetricNamesItsLineAndHintsAtMetrics() throws {
        try writeConfig(
            """
            gates:
              - stage: staging
                rules:
                  - rmse <= 1.0

                  - accuracyy >= 0.9
            """, commit: false)
        let result = try mv("gate", "v1", "--stage", "staging")
        assertOneLineError(result, mentions: [".mv.yaml:9:", "unknown metric 'accuracyy'"])
        XCTAssertTrue(result.stderr.contains("hint: ") && result.stderr.contains("metrics:"), result.stderr)
        assertOneLineError(try mv("list"), mentions: [".mv.yaml:9:", "accuracyy"])
    }

    func testUnknownMetricOnTheRightOfARelativeRule() throws {
        try assertPolicyError(
            """
            gates:
              - stage: production
                rules:
                  - rmse <= production.rmsee + 10%
            """, line: 7, mentions: ["unknown metric 'rmsee'"])
    }

    func testUnknownGateKeyNamesItsLine() throws {
        try assertPolicyError(
            """
            gates:
              - stage: production
                rules: [rmse <= 1.0]
              - stage: staging
                rules: [rmse <= 1.0]
                alow_force: true
            """, line: 9, mentions: ["unknown gate setting 'alow_force'"])
    }

    func testUnknownTopLevelKeyNamesItsLine() throws {
        try assertPolicyError(
            """
            gate:
              - stage: production
                rules: [rmse <= 1.0]
            """, line: 4, mentions: ["unknown setting 'gate'"])
    }

    func testUnknownStageNamesItsLine() throws {
        try assertPolicyError(
            """
            gates:
              - rules: [rmse <= 1.0]
                stage: prod
            """, line: 6, mentions: ["unknown stage 'prod'"])
    }

    func testRuleComparingWithANonStageNamesItsLine() throws {
        try assertPolicyError(
            """
            gates:
              - stage: production
                rules:
                  - rmse <= 1.0
                  - rmse <= prod.rmse + 10%
            """, line: 8, mentions: ["compares with 'prod', which is not a stage"])
    }

    func testBadAllowForceAndEmptyGateAreErrors() throws {
        try assertPolicyError(
            """
            gates:
              - stage: production
                rules: [rmse <= 1.0]
                allow_force: yes
            """, line: 7, mentions: ["'allow_force' must be true or false"])
        try assertPolicyError(
            """
            gates:
              - stage: production
                model: m
            """, line: 5, mentions: ["checks nothing"])
    }

    func testAMetricNeedsADirectionToBeDeclared() throws {
        try assertPolicyError(
            """
            metrics:
              latency_ms: faster
            gates:
              - stage: production
                rules: [latency_ms <= 5]
            """, line: 5, mentions: ["metric 'latency_ms' must be 'higher' or 'lower'"])
    }

    func testUndeclaredCustomMetricIsUnknown() throws {
        try assertPolicyError(
            """
            gates:
              - stage: production
                evaluation: train
                rules: [latency_ms <= 5]
            """, line: 7, mentions: ["unknown metric 'latency_ms'"])
    }

    /// A custom metric declared under `metrics:` (after the gates, order does not matter)
    /// is accepted and checked against the evaluation a training command reported.
    func testDeclaredCustomMetricIsAcceptedAndChecked() throws {
        _ = try write(
            """
            import json, os, sys, numpy
            out = os.environ['MV_OUTPUT_DIR']
            numpy.save(os.path.join(out, 'w.npy'), numpy.ones(3))
            open(os.path.join(out, 'metrics.json'), 'w').write(json.dumps({'rmse': 0.2, 'latency_ms': float(sys.argv[1])}))
            """, to: "train.py")
        try git("add", "train.py")
        try git("commit", "-q", "-m", "script")
        XCTAssertEqual(try mv("train", "net", "--", "python3", "train.py", "3.5").status, 0)
        XCTAssertEqual(try mv("train", "net", "--", "python3", "train.py", "12").status, 0)
        try writeConfig(
            """
            gates:
              - stage: production
                model: net
                evaluation: train
                rules:
                  - latency_ms <= 5
                  - rmse <= 0.5
            metrics:
              latency_ms: lower
            """)
        let list = try mv("list")
        XCTAssertEqual(list.status, 0, list.stderr)

        let pass = try mv("gate", "net@v1", "--stage", "production")
        XCTAssertEqual(pass.status, 0, pass.stdout + pass.stderr)
        XCTAssertTrue(pass.stdout.contains("pass  latency_ms <= 5  [actual 3.5, bound 5]"), pass.stdout)
        let fail = try mv("gate", "net@v2", "--stage", "production")
        XCTAssertEqual(fail.status, 1, fail.stdout + fail.stderr)
        XCTAssertTrue(fail.stdout.contains("FAIL  latency_ms <= 5  [actual 12, bound 5]"), fail.stdout)
        XCTAssertTrue(fail.stdout.contains("pass  rmse <= 0.5"), fail.stdout)
        // The gate names model net only: m has nothing to satisfy.
        let other = try mv("gate", "m@v1", "--stage", "production")
        XCTAssertEqual(other.status, 0, other.stdout + other.stderr)
        XCTAssertTrue(other.stdout.contains("no rules"), other.stdout)
    }

    func testUnknownStageOnTheCommandLine() throws {
        try writeConfig(Self.standardPolicy)
        let result = try mv("gate", "v1", "--stage", "qa")
        assertOneLineError(result, mentions: ["unknown stage 'qa'"])
    }

    /// An offset is a number, and `1e-3` is one (it is accepted as an absolute bound).
    func testRelativeOffsetInExponentNotation() throws {
        try writeConfig(
            """
            gates:
              - stage: staging
                rules: ["rmse <= 1e-3", "rmse <= production.rmse + 1e-3"]
            """)
        // The sign of an exponent (1e-3) must not be taken for the offset's sign.
        let result = try mv("list")
        guard result.status == 0 else { return XCTFail("'rmse <= production.rmse + 1e-3' refused: \(result.stderr)") }
        let promote = try mv("promote", "v1")
        XCTAssertEqual(promote.status, 0, promote.stderr)
        let gate = try mv("gate", "v1", "--stage", "staging", "--json")
        let checks = (try json(gate)["checks"] as? [[String: Any]]) ?? []
        XCTAssertEqual(checks.count, 2, gate.stdout + gate.stderr)
        if checks.count == 2 {
            XCTAssertEqual(try XCTUnwrap(checks[1]["threshold"] as? Double), try holdoutMetric("v1.0.0", "rmse") + 0.001, accuracy: 1e-12)
            XCTAssertEqual(checks[1]["passed"] as? Bool, true)
        }
    }
}
