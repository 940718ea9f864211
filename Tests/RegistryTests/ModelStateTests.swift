import Foundation
import Git
import XCTest

@testable import Registry

/// Stage holders and active versions derived from events alone, the way GTO derives them.
final class ModelStateTests: XCTestCase {
    private let model = try! ModelName("churn")
    private let start = Date(timeIntervalSince1970: 1_800_000_000)

    private func commit(_ number: Int) -> ObjectID {
        ObjectID(hex: String(format: "%040x", number))!
    }

    /// An event `seconds` after the start; the tag name and counter come from the grammar.
    private func event(_ name: String, on commitNumber: Int, at seconds: Double) -> RegistryEvent {
        let parsed = TagNames.parseEvent(name)!
        return RegistryEvent(
            model: model, kind: parsed.kind, version: parsed.version, stage: parsed.stage, counter: parsed.counter,
            tag: name, commit: commit(commitNumber), time: start.addingTimeInterval(seconds), tagger: nil, message: "")
    }

    private func state(_ events: [RegistryEvent]) -> ModelState {
        Registry.resolveState(model: model, events: events, maxCounter: events.compactMap(\.counter).max() ?? 0)
    }

    private var versions: [RegistryEvent] {
        [event("churn@v1.0.0", on: 1, at: 0), event("churn@v2.0.0", on: 2, at: 10), event("churn@v3.0.0", on: 3, at: 20)]
    }

    func testTheLatestAssignmentHoldsTheStage() {
        let state = state(
            versions + [
                event("churn#production#1", on: 1, at: 30), event("churn#production#2", on: 2, at: 40),
                event("churn#staging#3", on: 3, at: 50),
            ])
        XCTAssertEqual(state.holders["production"]?.version, SemanticVersion(major: 2))
        XCTAssertEqual(state.holders["production"]?.tag, "churn#production#2")
        XCTAssertEqual(state.holders["staging"]?.version, SemanticVersion(major: 3))
        XCTAssertEqual(state.latest, SemanticVersion(major: 3))
        XCTAssertEqual(state.maxCounter, 3)
        XCTAssertFalse(state.deprecated)
    }

    func testAnUnassignmentHandsTheStageBack() {
        let state = state(
            versions + [
                event("churn#production#1", on: 1, at: 30), event("churn#production#2", on: 2, at: 40),
                event("churn#production!#3", on: 2, at: 50),
            ])
        XCTAssertEqual(state.holders["production"]?.version, SemanticVersion(major: 1))
        let cleared = self.state(versions + [event("churn#production#1", on: 1, at: 30), event("churn#production!#2", on: 1, at: 40)])
        XCTAssertNil(cleared.holders["production"], "no earlier holder: the stage is empty")
    }

    func testADeprecatedVersionLosesItsStagesAndIsNotLatest() {
        let state = state(
            versions + [
                event("churn#production#1", on: 1, at: 30), event("churn#production#2", on: 3, at: 40),
                event("churn@v3.0.0!", on: 3, at: 50),
            ])
        XCTAssertEqual(state.holders["production"]?.version, SemanticVersion(major: 1))
        XCTAssertEqual(state.latest, SemanticVersion(major: 2))
        XCTAssertEqual(state.activeVersions, [SemanticVersion(major: 1), SemanticVersion(major: 2)])
        XCTAssertEqual(state.allVersions.count, 3)
        XCTAssertFalse(state.isActive(SemanticVersion(major: 3)))
    }

    /// With counters on every stage event the counter orders them, whatever the clocks said.
    func testCountersOrderStageEventsBeforeTime() {
        let state = state(versions + [event("churn#production#2", on: 1, at: 30), event("churn#production#1", on: 2, at: 40)])
        XCTAssertEqual(state.holders["production"]?.version, SemanticVersion(major: 1), "#2 is later than #1")
        // Without counters (tags written by hand), the tagger time decides.
        let byTime = self.state(
            versions + [
                event("churn#production", on: 2, at: 30), event("churn#staging", on: 3, at: 31),
                event("churn#production#5", on: 1, at: 20),
            ])
        XCTAssertEqual(byTime.holders["production"]?.version, SemanticVersion(major: 2))
    }

    func testTheModelIsDeprecatedWhileItsLastEventIsADeprecation() {
        XCTAssertTrue(state(versions + [event("churn@deprecated", on: 3, at: 30)]).deprecated)
        XCTAssertFalse(state(versions + [event("churn@deprecated", on: 3, at: 30), event("churn@v4.0.0", on: 4, at: 40)]).deprecated)
    }

    /// A stage tag on a commit no version tag names holds the stage as that commit.
    func testAStageOnAnUnregisteredCommitIsHeldByTheCommit() {
        let state = state(versions + [event("churn#production#1", on: 9, at: 30)])
        XCTAssertNil(state.holders["production"]?.version)
        XCTAssertEqual(state.holders["production"]?.label, commit(9).description)
    }
}
