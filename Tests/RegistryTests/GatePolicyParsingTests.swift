import Foundation
import XCTest

@testable import Registry

/// The rule grammar of `.mv.yaml` gates (docs/GATES.md), parsed without a repository.
final class GatePolicyParsingTests: XCTestCase {
    private func parser(_ yaml: String = "metrics:\n  latency-ms: lower\n") throws -> GatePolicyParser {
        GatePolicyParser(config: try RegistryConfig.parse(yaml))
    }

    private func bound(_ rule: GateRule) -> (stage: String, metric: String, offset: Double, percent: Bool)? {
        guard case .holder(let stage, let metric, let offset, let percent) = rule.bound else { return nil }
        return (stage, metric.text, offset, percent)
    }

    func testFixedBounds() throws {
        let parser = try parser()
        let rule = try parser.parseRule("rmse <= 0.5", line: 3)
        XCTAssertEqual(rule.metric, GateRule.MetricReference(evaluation: nil, metric: "rmse"))
        XCTAssertEqual(rule.comparison, .lessOrEqual)
        guard case .number(let value) = rule.bound else { return XCTFail("\(rule.bound)") }
        XCTAssertEqual(value, 0.5)
        XCTAssertFalse(rule.isRelative)
        XCTAssertEqual(try parser.parseRule("test.f1 >= 0.9", line: 1).metric, GateRule.MetricReference(evaluation: "test", metric: "f1"))
        // The longest operator is taken: '>=' is not '>' followed by '= 0.9'.
        XCTAssertEqual(try parser.parseRule("accuracy>=0.9", line: 1).comparison, .greaterOrEqual)
        XCTAssertEqual(try parser.parseRule("accuracy > 0.9", line: 1).comparison, .greater)
        XCTAssertEqual(try parser.parseRule("r2 == 1", line: 1).comparison, .equal)
        XCTAssertEqual(
            try parser.parseRule("latency-ms < 20", line: 1).metric.metric, "latency-ms", "a custom metric declared higher/lower")
    }

    func testBoundsRelativeToAStageHolder() throws {
        let parser = try parser()
        let minus = try parser.parseRule("f1 >= production.f1 - 0.01", line: 1)
        XCTAssertTrue(minus.isRelative)
        XCTAssertEqual(bound(minus)?.stage, "production")
        XCTAssertEqual(bound(minus)?.metric, "f1")
        XCTAssertEqual(bound(minus)?.offset, -0.01)
        XCTAssertEqual(bound(minus)?.percent, false)
        let percent = try parser.parseRule("rmse <= production.rmse + 5%", line: 1)
        XCTAssertEqual(bound(percent)?.offset, 5)
        XCTAssertEqual(bound(percent)?.percent, true)
        // '-' inside a metric name and in an exponent are not the offset's sign.
        let hyphen = try parser.parseRule("latency-ms <= staging.latency-ms + 1e-3", line: 1)
        XCTAssertEqual(bound(hyphen)?.metric, "latency-ms")
        XCTAssertEqual(bound(hyphen)?.offset, 0.001)
        XCTAssertEqual(bound(try parser.parseRule("f1 >= staging.holdout.f1", line: 1))?.metric, "holdout.f1")
    }

    func testMistakesNameTheLineAndTheRule() throws {
        let parser = try parser()
        let cases: [(String, String)] = [
            ("rmse <== 0.5", "malformed rule"), ("rmse 0.5", "malformed rule"), ("<= 0.5", "malformed rule"),
            ("rmse <= nan", "malformed rule"), ("rmse <= production.rmse + lots", "malformed rule"),
            ("accuracyy >= 0.9", "unknown metric 'accuracyy'"), ("rmse <= canary.rmse", "'canary', which is not a stage"),
            ("a.b.c <= 1", "malformed metric 'a.b.c'"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try parser.parseRule(text, line: 17), text) { error in
                XCTAssertTrue("\(error)".hasPrefix(".mv.yaml:17: "), "\(error)")
                XCTAssertTrue("\(error)".contains(expected), "\(text): \(error)")
            }
        }
    }

    func testGateBlocksApplyToTheirStageAndModel() throws {
        let config = try RegistryConfig.parse(
            """
            gates:
              - stage: production
                model: churn
                rules: [rmse <= 0.5]
                allow_force: true
              - stage: commit
                require_fields: [lineage.data]
            """)
        XCTAssertEqual(config.gates.count, 2)
        let churn = try ModelName("churn")
        let other = try ModelName("other")
        XCTAssertTrue(config.gates[0].applies(to: churn, stage: "production"))
        XCTAssertFalse(config.gates[0].applies(to: other, stage: "production"))
        XCTAssertFalse(config.gates[0].applies(to: churn, stage: "staging"))
        XCTAssertTrue(config.gates[0].allowForce)
        XCTAssertEqual(config.gates[0].rules.first?.line, 4)
        XCTAssertTrue(config.gates[1].applies(to: other, stage: GateBlock.commitStage))
        XCTAssertEqual(config.gates[1].requiredFields, ["lineage.data"])
        XCTAssertThrowsError(try RegistryConfig.parse("gates:\n  - stage: production\n")) {
            XCTAssertTrue("\($0)".contains(".mv.yaml:2: this gate checks nothing"), "\($0)")
        }
        XCTAssertThrowsError(try RegistryConfig.parse("gates:\n  - stage: production\n    rules: [rmse <= 1]\n    colour: red\n")) {
            XCTAssertTrue("\($0)".contains(".mv.yaml:4: unknown gate setting 'colour'"), "\($0)")
        }
    }
}
