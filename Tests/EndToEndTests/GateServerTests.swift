import Foundation
import TestSupport
import XCTest

/// A bare "server" repository with `mv hooks install --server`: pushed stage tags are
/// checked by pre-receive; a failing one made by `gto assign` (which runs no local hooks)
/// is refused there, and already by the client's pre-push hook when that is installed.
final class GateServerTests: GateTestBase {
    var serverParent: URL!
    var server: URL { serverParent.appendingPathComponent("server.git") }

    override func setUpWithError() throws {
        try super.setUpWithError()
        serverParent = FileManager.default.temporaryDirectory.appendingPathComponent("mv-gate-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: serverParent, withIntermediateDirectories: true)
        try initRepository()
        try trainGoodAndNoisy()
        try writeConfig(Self.standardPolicy)

        try git("init", "-q", "--bare", "-b", "main", "server.git", in: serverParent)
        let installed = try mv(["hooks", "install", "--server", "-C", "server.git"], in: serverParent)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        XCTAssertEqual(installed.stdout.split(separator: "\n").first, "installed pre-receive", installed.stdout)
        XCTAssertTrue(isExecutable(server.appendingPathComponent("hooks/pre-receive")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: server.appendingPathComponent("hooks/pre-commit").path))

        try git("remote", "add", "origin", server.path)
        let main = try gitResult("push", "-q", "origin", "main")
        XCTAssertEqual(main.status, 0, main.stderr)
        let versions = try gitResult("push", "-q", "origin", "refs/tags/m@v1.0.0", "refs/tags/m@v2.0.0")
        XCTAssertEqual(versions.status, 0, versions.stderr)
        XCTAssertEqual(try remoteTags("m@*"), ["m@v1.0.0", "m@v2.0.0"])
    }

    override func tearDownWithError() throws {
        if let serverParent { try? FileManager.default.removeItem(at: serverParent) }
        try super.tearDownWithError()
    }

    func remoteTags(_ pattern: String) throws -> [String] {
        try git("tag", "-l", pattern, in: server).split(separator: "\n").map(String.init)
    }

    /// `gto assign` for v2 to production; returns the new tag's name.
    func gtoAssignV2(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let before = Set(try tags("m#production#*"))
        Thread.sleep(forTimeInterval: 1.1)
        let gto = try Self.run(["gto", "assign", "m", "--version", "v2.0.0", "--stage", "production"], in: root)
        XCTAssertEqual(gto.status, 0, gto.stdout + gto.stderr, file: file, line: line)
        let created = Set(try tags("m#production#*")).subtracting(before)
        XCTAssertEqual(created.count, 1, "gto made one stage tag: \(created)", file: file, line: line)
        let name = try XCTUnwrap(created.first, file: file, line: line)
        XCTAssertEqual(try commit(of: name), try commit(of: "m@v2.0.0"), file: file, line: line)
        return name
    }

    func testPassingPromotionLandsAndAFailingGtoAssignmentIsRejectedByPreReceive() throws {
        let promote = try mv("promote", "v1")
        XCTAssertEqual(promote.status, 0, promote.stderr)
        let good = try XCTUnwrap(try tags("m#production#*").first)
        let pushed = try gitResult("push", "origin", "main", "refs/tags/\(good)")
        XCTAssertEqual(pushed.status, 0, pushed.stderr)
        XCTAssertEqual(try remoteTags("m#*"), [good])
        XCTAssertEqual(try git("rev-parse", "\(good)^{commit}", in: server), try commit(of: "m@v1.0.0"))

        let bad = try gtoAssignV2()
        let serverBefore = try git("for-each-ref", "--format=%(refname) %(objectname)", in: server)
        let rejected = try gitResult("push", "--no-verify", "origin", "refs/tags/\(bad)")
        XCTAssertNotEqual(rejected.status, 0, rejected.stderr)
        XCTAssertTrue(rejected.stderr.contains("pre-receive hook declined"), rejected.stderr)
        XCTAssertTrue(rejected.stderr.contains("remote: gate production for m@v2.0.0: FAILED"), rejected.stderr)
        XCTAssertTrue(rejected.stderr.contains("remote:   FAIL  rmse <= 1.0  [actual "), rejected.stderr)
        XCTAssertTrue(rejected.stderr.contains("'refs/tags/\(bad)' assigns production to m@v2.0.0, which fails the gate"), rejected.stderr)
        XCTAssertEqual(try remoteTags("m#*"), [good])
        XCTAssertEqual(try git("for-each-ref", "--format=%(refname) %(objectname)", in: server), serverBefore)
    }

    func testClientPrePushRefusesTheFailingTagBeforeItLeaves() throws {
        XCTAssertEqual(try mv("hooks", "install").status, 0)
        // Client hooks installed: mv's own promotion still passes through them and lands.
        XCTAssertEqual(try mv("promote", "v1").status, 0)
        XCTAssertEqual(try gitResult("push", "-q", "origin", "main", "--tags").status, 0)
        let landed = try remoteTags("m#*")
        XCTAssertEqual(landed.count, 1)

        // gto writes through dulwich: no local hook stops it.
        let bad = try gtoAssignV2()
        let result = try gitResult("push", "origin", "refs/tags/\(bad)")
        XCTAssertNotEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("gate production for m@v2.0.0: FAILED"), result.stderr)
        XCTAssertTrue(result.stderr.contains("failed to push some refs"), result.stderr)
        XCTAssertFalse(result.stderr.contains("pre-receive hook declined"), "refused before reaching the server: \(result.stderr)")
        XCTAssertFalse(result.stderr.contains("remote:"), result.stderr)
        XCTAssertEqual(try remoteTags("m#*"), landed)
        // And --no-verify only moves the refusal to the server.
        let server = try gitResult("push", "--no-verify", "origin", "refs/tags/\(bad)")
        XCTAssertNotEqual(server.status, 0)
        XCTAssertTrue(server.stderr.contains("pre-receive hook declined"), server.stderr)
        XCTAssertEqual(try remoteTags("m#*"), landed)
    }

    /// An override recorded by `mv promote --force --reason` where the gate allows it is
    /// accepted by the server too.
    func testForcedPromotionWhereAllowedIsAcceptedByTheServer() throws {
        let forced = try mv("promote", "v2", "--stage", "staging", "--force", "--reason", "demo build")
        XCTAssertEqual(forced.status, 0, forced.stderr)
        let name = try XCTUnwrap(try tags("m#staging#*").first)
        let pushed = try gitResult("push", "origin", "main", "refs/tags/\(name)")
        XCTAssertEqual(pushed.status, 0, pushed.stderr)
        XCTAssertEqual(try remoteTags("m#staging#*"), [name])
    }

    /// The very first push to a fresh gated server brings main (with `.mv.yaml`) and a
    /// failing stage tag together: the gate must still apply.
    func testFirstPushOfEverythingToAFreshServerStillChecksStageTags() throws {
        let bad = try gtoAssignV2()
        let fresh = serverParent.appendingPathComponent("fresh.git")
        try git("init", "-q", "--bare", "-b", "main", fresh.path)
        XCTAssertEqual(try mv("hooks", "install", "--server", "-C", fresh.path).status, 0)
        let result = try gitResult("push", "--no-verify", fresh.path, "main", "--tags")
        // A fresh server has no policy of its own: the pushed main's .mv.yaml applies, so the
        // failing stage tag must not land with the first push.
        XCTAssertNotEqual(result.status, 0, "pushed: \(result.stderr)")
        XCTAssertEqual(try git("tag", "-l", bad, in: fresh), "", "the failing stage tag \(bad) reached the fresh server in its first push")
    }
}
