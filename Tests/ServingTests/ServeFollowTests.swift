import Foundation
import TestSupport
import XCTest

/// The server follows the stage tag: promotions, rollbacks and demotions reach it within a
/// second, and no request fails while it swaps.
final class ServeFollowTests: ServeTestCase {
    /// Clients that keep calling while the stage moves: every answer 200, every version one
    /// that held the stage.
    final class Load: @unchecked Sendable {
        private let lock = NSLock()
        private var statuses: [Int: Int] = [:]
        private var versions: Set<String> = []
        private var failures: [String] = []
        private var running = true

        var isRunning: Bool { lock.withLock { running } }
        func stop() { lock.withLock { running = false } }

        func record(_ answer: HTTPAnswer) {
            lock.withLock {
                statuses[answer.status, default: 0] += 1
                if answer.status != 200 { failures.append("\(answer.status) \(answer.text)") }
                if let version = answer.header("X-Model-Version") { versions.insert(version) }
            }
        }

        func record(error: any Error) { lock.withLock { failures.append("\(error)") } }

        var summary: (statuses: [Int: Int], versions: Set<String>, failures: [String]) {
            lock.withLock { (statuses, versions, failures) }
        }
    }

    func testPromotionsAndARollbackSwapVersionsWithinASecondAndNoRequestFails() throws {
        try trainPrice()
        try mvOK("promote", "price@v1")
        let server = try ServerProcess(["price"], in: root)
        defer { server.stop() }
        let load = Load()
        let group = DispatchGroup()
        for _ in 0..<4 {
            DispatchQueue.global().async(group: group) {
                while load.isRunning {
                    do {
                        load.record(try server.post("/invocations", json: "{\"instances\":[[1],[2],[3]]}"))
                    } catch {
                        load.record(error: error)
                    }
                }
            }
        }
        func version() throws -> String? { try server.get("/v1/models/price").header("X-Model-Version") }
        XCTAssertEqual(try version(), "1.0.0")
        var expected = "1.0.0"
        for step in 0..<4 {
            expected = step % 2 == 0 ? "2.0.0" : "1.0.0"
            if step == 3 {
                try mvOK("rollback", "price", "--to", "v1")
            } else {
                try mvOK("promote", "price@v\(expected.prefix(1))")
            }
            let moved = Date()
            XCTAssertTrue(try server.waitUntil(3, "/v1/models/price") { $0.header("X-Model-Version") == expected }, "step \(step)")
            // Within a second of the command's exit (the poll is 200 ms; slack for a loaded CI machine).
            XCTAssertLessThan(Date().timeIntervalSince(moved), 1.5, "step \(step)")
        }
        load.stop()
        group.wait()
        let summary = load.summary
        XCTAssertEqual(summary.failures, [])
        XCTAssertEqual(summary.versions, ["1.0.0", "2.0.0"])
        XCTAssertGreaterThan(summary.statuses[200] ?? 0, 20)
        XCTAssertTrue(server.log.contains("price#production: serving price@v2.0.0 (was 1.0.0)"), server.log)
        let metrics = try server.get("/metrics").text
        XCTAssertTrue(metrics.contains("mv_reloads_total{result=\"success\"} 5"), metrics)
    }

    func testADemotedStageAnswers503UntilSomeonePromotesAgainAndSIGHUPChecksAtOnce() throws {
        try trainPrice()
        try mvOK("promote", "price@v1")
        // Polling once a minute (and a backstop of 10 s): only SIGHUP makes it look within the test.
        let server = try ServerProcess(["--poll", "60"], in: root)
        defer { server.stop() }
        XCTAssertEqual(try server.get("/health").status, 200)
        try mvOK("demote", "price")
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertEqual(try server.get("/health").status, 200, "not looked yet")
        kill(server.process.processIdentifier, SIGHUP)
        XCTAssertTrue(try server.waitUntil(3, "/health") { $0.status == 503 })
        let refused = try server.post("/invocations", json: "{\"instances\":[[1]]}")
        XCTAssertEqual(refused.status, 503, refused.text)
        XCTAssertEqual(try refused.object()["error_code"] as? String, "TEMPORARILY_UNAVAILABLE")
        XCTAssertTrue(
            (try refused.object()["message"] as? String)?.contains("no version of 'price' holds stage 'production'") == true, refused.text)
        XCTAssertEqual(try server.get("/v2/models/price/ready").status, 503)
        XCTAssertEqual(try server.get("/v2/health/ready").status, 503)
        let status = try server.get("/v1/models/price").object()
        XCTAssertEqual((status["model_version_status"] as? [[String: Any]])?.first?["state"] as? String, "UNAVAILABLE")
        XCTAssertEqual(try server.get("/ping").status, 200, "the server itself is up")

        try mvOK("promote", "price@v2")
        kill(server.process.processIdentifier, SIGHUP)
        XCTAssertTrue(try server.waitUntil(3, "/health") { $0.status == 200 })
        XCTAssertEqual(try server.post("/invocations", json: "{\"instances\":[[1]]}").header("X-Model-Version"), "2.0.0")
    }

    func testAPinnedVersionFromABareCloneAndEveryModelAtAStage() throws {
        try trainPrice()
        try trainChurn()
        try mvOK("promote", "price@v1", "--stage", "staging")
        let bare = root.appendingPathComponent("registry.git")
        try git("clone", "-q", "--bare", root.path, bare.path)
        let server = try ServerProcess(["price@v2", "price#staging", "churn"], in: bare)
        defer { server.stop() }
        XCTAssertEqual(try server.post("/v1/models/price:predict", json: "{\"instances\":[[1]]}").header("X-Model-Version"), "2.0.0")
        XCTAssertEqual(
            try server.post("/v1/models/price/labels/staging:predict", json: "{\"instances\":[[1]]}").header("X-Model-Version"), "1.0.0")
        XCTAssertEqual(try server.post("/v1/models/price/versions/1:predict", json: "{\"instances\":[[1]]}").status, 200)
        // churn has no production holder: listed, answering 503, not an error at start.
        XCTAssertEqual(try server.post("/v1/models/churn:predict", json: "{\"instances\":[[1, \"pro\"]]}").status, 503)
        let ambiguous = try server.post("/invocations", json: "{\"instances\":[[1]]}")
        XCTAssertEqual(ambiguous.status, 400)
        XCTAssertTrue(ambiguous.text.contains("name one with ?model=NAME"), ambiguous.text)

        let everyStaging = try ServerProcess(["--stage", "staging"], in: bare)
        defer { everyStaging.stop() }
        XCTAssertEqual(try everyStaging.get("/v2/models/price").object()["versions"] as? [String], ["1.0.0"])
        XCTAssertEqual(try everyStaging.get("/v2/models/churn/ready").status, 503)
    }

    func testSIGTERMFinishesTheRequestInFlightThenExitsZero() throws {
        try trainPrice()
        try mvOK("promote", "price@v2")
        let server = try ServerProcess([], in: root)
        let body = Data("{\"instances\":[[1],[2]]}".utf8)
        let connection = try HTTPConnection(port: server.port)
        // Head and half the body, then SIGTERM, then the rest: the answer still comes.
        try connection.write(
            Data("POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
                + body.prefix(5))
        Thread.sleep(forTimeInterval: 0.3)
        kill(server.process.processIdentifier, SIGTERM)
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertTrue(server.process.isRunning, "it waits for the request in flight")
        XCTAssertThrowsError(
            try HTTPConnection(port: server.port).exchange(HTTPRequestText(method: "GET", path: "/ping").bytes), "no new connections")
        try connection.write(body.dropFirst(5))
        let answer = try connection.readAnswer()
        XCTAssertEqual(answer.status, 200, answer.text)
        XCTAssertEqual(answer.numbers("predictions").count, 2)
        server.process.waitUntilExit()
        XCTAssertEqual(server.process.terminationStatus, 0, server.log)
    }

    /// A replica that is not where promotions happen: it fetches tags from its remote and
    /// follows the stage there; a remote that cannot be reached keeps it serving.
    func testAReplicaFollowsPromotionsPushedToItsRemote() throws {
        try trainPrice()
        try mvOK("promote", "price@v1")
        let hub = root.appendingPathComponent("hub.git")
        try git("clone", "-q", "--bare", root.path, hub.path)
        try git("remote", "add", "hub", hub.path)
        let replica = root.appendingPathComponent("replica")
        try git("clone", "-q", hub.path, replica.path)
        let server = try ServerProcess(["--remote", "origin", "--fetch-every", "300ms"], in: replica)
        defer { server.stop() }
        XCTAssertEqual(try server.get("/v1/models/price").header("X-Model-Version"), "1.0.0")

        try mvOK("promote", "price@v2")
        XCTAssertEqual(try server.get("/v1/models/price").header("X-Model-Version"), "1.0.0", "not pushed yet")
        try git("push", "-q", "hub", "main", "--tags")
        XCTAssertTrue(try server.waitUntil(5, "/v1/models/price") { $0.header("X-Model-Version") == "2.0.0" }, server.log)

        // The remote goes away: the replica logs it, counts it and keeps serving v2.
        try FileManager.default.moveItem(at: hub, to: root.appendingPathComponent("gone.git"))
        Thread.sleep(forTimeInterval: 1)
        XCTAssertEqual(try server.post("/invocations", json: "{\"instances\":[[1]]}").header("X-Model-Version"), "2.0.0")
        XCTAssertTrue(server.log.contains("fetching tags from 'origin' failed"), server.log)
        XCTAssertTrue(try server.get("/metrics").text.contains("mv_fetches_total{result=\"failure\"}"))

        let typo = try mv(["serve", "--remote", "orign", "--port", "0"], in: replica)
        XCTAssertEqual(typo.status, 1)
        XCTAssertTrue(typo.stderr.contains("no remote 'orign'"), typo.stderr)
    }
}
