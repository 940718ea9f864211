import Foundation
import Git
import XCTest

@testable import Registry

/// The tag grammar shared with GTO (docs/TAGS.md): what mv writes parses back to the same
/// event, and names GTO would misread or that name no event are refused.
final class TagGrammarTests: XCTestCase {
    func testEveryEventKindParses() throws {
        let cases: [(String, RegistryEvent.Kind, String?, String?, Int?)] = [
            ("churn@v1.2.3", .registration, "v1.2.3", nil, nil),
            ("churn@v1.2.3!", .deregistration, "v1.2.3", nil, nil),
            ("churn#production#3", .assignment, nil, "production", 3),
            ("churn#production!#4", .unassignment, nil, "production", 4),
            ("churn#staging", .assignment, nil, "staging", nil),
            ("churn@deprecated", .deprecation, nil, nil, nil),
            ("churn@deprecated#7", .deprecation, nil, nil, 7),
            ("churn@v2.0.0#5", .registration, "v2.0.0", nil, 5),
            ("fraud-detector_2#prod-eu#12", .assignment, nil, "prod-eu", 12),
        ]
        for (name, kind, version, stage, counter) in cases {
            let parsed = try XCTUnwrap(TagNames.parseEvent(name), name)
            XCTAssertEqual(parsed.kind, kind, name)
            XCTAssertEqual(parsed.version?.description, version, name)
            XCTAssertEqual(parsed.stage, stage, name)
            XCTAssertEqual(parsed.counter, counter, name)
        }
        XCTAssertEqual(TagNames.parseEvent("churn#production#3")?.model.value, "churn")
    }

    func testWhatIsNotAnEventIsRefused() {
        for name in [
            "churn@v1", "churn@v1.2", "churn@v01.2.3", "churn@v1.0.0-eval.1", "churn@v1.0.0+eval.1", "churn@created",
            "churn#a/b#1", "../x@v1.0.0", "-churn@v1.0.0", "churn", "churn@", "churn#", "churn@deprecated!",
            "eval/churn/v1.0.0/1", "churn@v1.0.0.eval.1",
        ] {
            XCTAssertNil(TagNames.parseEvent(name), name)
        }
    }

    func testNamesMvWritesParseBackAsTheSameEvent() throws {
        let model = try ModelName("churn")
        let version = SemanticVersion(major: 3, minor: 1)
        XCTAssertEqual(TagNames.version(model, version), "churn@v3.1.0")
        XCTAssertEqual(TagNames.parseEvent(TagNames.version(model, version))?.kind, .registration)
        XCTAssertEqual(TagNames.assignment(model, stage: "production", counter: 9), "churn#production#9")
        XCTAssertEqual(TagNames.parseEvent(TagNames.assignment(model, stage: "production", counter: 9))?.counter, 9)
        XCTAssertEqual(TagNames.unassignment(model, stage: "staging", counter: 2), "churn#staging!#2")
        XCTAssertEqual(TagNames.parseEvent(TagNames.unassignment(model, stage: "staging", counter: 2))?.kind, .unassignment)
        XCTAssertEqual(TagNames.deregistration(model, version), "churn@v3.1.0!")
        XCTAssertEqual(TagNames.parseEvent(TagNames.deregistration(model, version))?.kind, .deregistration)
        for name in [
            TagNames.version(model, version), TagNames.assignment(model, stage: "production", counter: 1),
            TagNames.evaluation(model, version, 4),
        ] {
            XCTAssertTrue(Repository.isValidTagName(name), name)
        }
    }

    /// Evaluation tags are a shape of their own, which GTO ignores and mv reads back.
    func testEvaluationTags() throws {
        let model = try ModelName("churn")
        let version = SemanticVersion(major: 2)
        XCTAssertEqual(TagNames.evaluation(model, version, 4), "eval/churn/v2.0.0/4")
        let parsed = try XCTUnwrap(TagNames.parseEvaluation(ref: "refs/tags/eval/churn/v2.0.0/4"))
        XCTAssertEqual(parsed.model, model)
        XCTAssertEqual(parsed.version, version)
        XCTAssertEqual(parsed.number, 4)
        for ref in [
            "refs/tags/eval/churn/v2.0.0/0", "refs/tags/eval/churn/v2/1", "refs/tags/eval/../v2.0.0/1", "refs/heads/eval/churn/v2.0.0/1",
            "refs/tags/eval/churn/v2.0.0/1/2", "refs/tags/eval/churn/v2.0.0/x",
        ] {
            XCTAssertNil(TagNames.parseEvaluation(ref: ref), ref)
        }
        XCTAssertNil(TagNames.parseEvent("eval/churn/v2.0.0/4"), "not a GTO event")
        XCTAssertEqual(TagNames.evaluationGlob(model, version), "refs/tags/eval/churn/v2.0.0/*")
    }
}

/// Commit and tag trailers are written and read in one place.
final class TrailerTests: XCTestCase {
    func testTrailersReadBackAsWritten() {
        var trailers = Trailers()
        trailers.append("Model", "churn")
        trailers.append("Reason", "first line\nsecond line")
        trailers.append(metrics: [("rmse", 0.5), ("f1_macro", 0.875)])
        XCTAssertEqual(trailers.text, "Model: churn\nReason: first line second line\nMetric-rmse: 0.5\nMetric-f1_macro: 0.875\n")
        let parsed = Trailers.parse("churn v1.0.0\n\nTrained on data.csv: 400 rows.\n\n" + trailers.text)
        XCTAssertEqual(parsed["Model"], "churn")
        XCTAssertEqual(parsed["Reason"], "first line second line")
        XCTAssertEqual(parsed.metrics.map(\.name), ["rmse", "f1_macro"], "underscores in metric keys, which git's own parser refuses")
        XCTAssertEqual(parsed.metrics.map(\.value), [0.5, 0.875])
        XCTAssertNil(parsed["Trained on data.csv"], "a line whose key holds a space is prose")
    }

    func testTheLastOfARepeatedKeyWinsAndAllAreKept() {
        let parsed = Trailers.parse(
            "x\n\nGate-Failed: rmse <= 0.5 (got 0.7)\nGate-Failed: r2 >= 0.9 (got 0.8)\nMetric-rmse: not-a-number\n")
        XCTAssertEqual(parsed["Gate-Failed"], "r2 >= 0.9 (got 0.8)")
        XCTAssertEqual(parsed.fields.filter { $0.key == "Gate-Failed" }.count, 2)
        XCTAssertTrue(parsed.metrics.isEmpty, "a metric that is not a number is not a metric")
    }
}
