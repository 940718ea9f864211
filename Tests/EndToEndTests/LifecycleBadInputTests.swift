import Foundation
import TestSupport
import XCTest

/// Bad input to the lifecycle commands: non-zero exit, one `mv: error:` line (plus at most
/// a `hint:` line), nothing on stdout, and refs, index and work tree exactly as they were.
final class LifecycleBadInputTests: LifecycleTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try initRepository()
        try train("m")
        try train("m", seed: 7)
    }

    func testUnknownVersion() throws {
        try assertRefused(["promote", "m@v9"], mentions: ["'m' has no version v9.0.0", "v1.0.0, v2.0.0"])
        try assertRefused(["eval", "m@v9", "--data", "test.csv"], mentions: ["'m' has no version v9.0.0"])
        try assertRefused(["rollback", "m", "--to", "v9"], mentions: ["'m' has no version v9.0.0"])
    }

    func testUnknownStage() throws {
        try assertRefused(["promote", "v1", "--stage", "prod"], mentions: ["unknown stage 'prod'", "staging, production"])
        try assertRefused(["demote", "m", "--stage", "prod"], mentions: ["unknown stage 'prod'"])
        try assertRefused(["rollback", "m", "--to", "v1", "--stage", "prod"], mentions: ["unknown stage 'prod'"])
    }

    func testPromotingADeprecatedVersion() throws {
        try ok("deprecate", "m@v1", "-m", "trained on leaked labels")
        XCTAssertEqual(try git("cat-file", "-t", "m@v1.0.0!"), "tag")
        try assertRefused(["promote", "m@v1"], mentions: ["m@v1.0.0 is deprecated"])
        try assertRefused(["promote", "m@v1", "--stage", "staging"], mentions: ["m@v1.0.0 is deprecated"])
        try assertRefused(["rollback", "m", "--to", "v1"], mentions: ["m@v1.0.0 is deprecated"])
        try assertRefused(["deprecate", "m@v1"], mentions: ["already deprecated"])
    }

    func testNonexistentReference() throws {
        try assertRefused(["diff", "m@v1", "nosuchref"], mentions: ["'nosuchref'"])
        try assertRefused(["diff", "m@v1", "HEAD~99"], mentions: ["unknown version or revision 'HEAD~99'"])
        try assertRefused(["checkout", "nosuchref"], mentions: ["'nosuchref'"])
        try assertRefused(["checkout", "0123456789abcdef0123456789abcdef01234567"], mentions: ["0123456789abcdef0123456789abcdef01234567"])
        try assertRefused(["eval", "nosuchref", "--data", "test.csv"], mentions: ["'nosuchref'"])
        try assertRefused(["promote", "m#staging"], mentions: ["no version of 'm' holds stage 'staging'"])
    }

    func testDirtyModelFolderRefusesRollback() throws {
        try ok("promote", "m@v1")
        try ok("promote", "m@v2")
        _ = try write("my notes\n", to: "models/m/NOTES.md")
        try assertRefused(["rollback", "m"], mentions: ["'models/m' has uncommitted changes", "NOTES.md", "--force"])
        try FileManager.default.removeItem(at: root.appendingPathComponent("models/m/NOTES.md"))
        // A modified tracked file is refused as well.
        _ = try write("edited by hand\n", to: "models/m/README.md")
        try assertRefused(["rollback", "m", "--to", "v1", "--stage", "staging"], mentions: ["uncommitted changes", "README.md"])
        // With --force the rollback lands and the folder is exactly v1's.
        try ok("rollback", "m", "--force")
        XCTAssertEqual(try git("rev-parse", "HEAD:models/m"), try git("rev-parse", "m@v1.0.0:models/m"))
        XCTAssertEqual(try git("status", "--porcelain", "--", "models"), "")
        try assertFolder(root.appendingPathComponent("models/m"), equals: "m@v1.0.0", model: "m")
    }

    func testTwoModelsAndNoModel() throws {
        try train("other")
        try assertRefused(["promote", "v1"], mentions: ["'v1' is ambiguous", "m, other", "--model"])
        try assertRefused(["eval", "v1", "--data", "test.csv"], mentions: ["'v1' is ambiguous", "--model"])
        try assertRefused(["diff", "v1", "v2"], mentions: ["'v1' is ambiguous", "--model"])
    }

    func testEvalWithAMissingFeatureColumn() throws {
        // A two-feature model, evaluated on a CSV that lacks x2.
        var rows = ["x1,x2,y"]
        var missing = ["x1,y"]
        for index in 0..<30 {
            let x1 = Double(index) * 0.37
            let x2 = Double((index * 7) % 11)
            let y = 3 * x1 - 2 * x2 + 1 + Double(index % 3) * 0.01
            rows.append("\(x1),\(x2),\(y)")
            missing.append("\(x1),\(y)")
        }
        _ = try write(rows.joined(separator: "\n") + "\n", to: "two.csv")
        _ = try write(missing.joined(separator: "\n") + "\n", to: "missing.csv")
        try ok("train", "f", "--data", "two.csv", "--target", "y")
        try assertRefused(["eval", "f@v1", "--data", "missing.csv"], mentions: ["'x2'", "missing.csv"])
        // The one-feature model with only its target column.
        _ = try write("y\n1\n2\n3\n", to: "only-target.csv")
        try assertRefused(["eval", "m@v1", "--data", "only-target.csv"], mentions: ["only-target.csv"])
    }

    func testEvalWithAnExtraColumn() throws {
        _ = try write("x,y,z\n1,5,0\n2,8,1\n3,11,0\n", to: "extra.csv")
        try assertRefused(["eval", "m@v1", "--data", "extra.csv"], mentions: ["unexpected column 'z'", "extra.csv"])
    }

    // The target comes from the manifest, so the message must not suggest a --target option.
    func testEvalWithoutTheTargetColumn() throws {
        _ = try write("x\n1\n2\n3\n", to: "features-only.csv")
        try assertRefused(["eval", "m@v1", "--data", "features-only.csv"], mentions: ["'y'", "features-only.csv"])
        let result = try mv("eval", "m@v1", "--data", "features-only.csv")
        XCTAssertFalse(result.stderr.contains("--target"), "mv eval has no --target option: \(result.stderr)")
        XCTAssertEqual(try mv("eval", "m@v1", "--data", "features-only.csv", "--target", "y").status, 64, "--target is not an eval option")
    }

    func testDemoteAVersionThatDoesNotHoldTheStage() throws {
        try ok("promote", "m@v1")
        try assertRefused(["demote", "m@v2"], mentions: ["m@v2.0.0 does not hold stage 'production'"])
        try assertRefused(["demote", "m@v1", "--stage", "staging"], mentions: ["m@v1.0.0 does not hold stage 'staging'"])
        try assertRefused(["demote", "m", "--stage", "staging"], mentions: ["no version of 'm' holds stage 'staging'"])
    }

    func testRollbackWithNoEarlierHolder() throws {
        try assertRefused(["rollback", "m"], mentions: ["no version of 'm' holds stage 'production'"])
        try ok("promote", "m@v1")
        try assertRefused(["rollback", "m"], mentions: ["'m' has no earlier holder of stage 'production'"])
        try assertRefused(["rollback", "m", "--to", "v1"], mentions: ["m@v1.0.0 already holds 'production'"])
    }
}
