import Foundation
import TestSupport
import XCTest

/// The lifecycle's second half end to end, as a scheduled job would run it against a live
/// server: train → promote → serve with logging → drifted traffic → monitor fails →
/// retrain on new data → gate passes → promote → the server answers with the new version.
final class MonitorLoopTests: ServeTestCase {
    func testDriftedTrafficLeadsToARetrainedVersionThatTheServerFollows() throws {
        _ = try write(Self.churnCSV(rows: 2000, seed: 1), to: "train.csv")
        try mvOK("train", "churn", "--data", "train.csv", "--target", "churned", "--algorithm", "logistic-regression")
        let config = root.appendingPathComponent(".mv.yaml")
        let policy = """
            gates:
              - stage: production
                rules: [accuracy >= 0.75]
            monitoring:
              - model: churn
                rules: [drift_share < 0.5, prediction.psi <= 0.25]
            """
        try (try String(contentsOf: config, encoding: .utf8) + policy + "\n").write(to: config, atomically: true, encoding: .utf8)
        try git("commit", "-qam", "gates and monitoring policy")
        try mvOK("promote", "churn@v1")

        let logs = root.appendingPathComponent("logs")
        let server = try ServerProcess(["churn", "--log-predictions", logs.path], in: root)
        defer { server.stop() }
        // Tomorrow's customers: longer tenures, more on the max plan.
        let drifted = Self.churnCSV(rows: 3000, seed: 2, shift: 1, plans: [0.15, 0.25, 0.6])
        let rows = drifted.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        for start in stride(from: 0, to: 1500, by: 50) {
            let batch = rows[start..<start + 50].map { "[\($0[0]), \"\($0[1])\", \($0[2])]" }.joined(separator: ",")
            let answer = try server.post(
                "/invocations", json: "{\"dataframe_split\": {\"columns\": [\"tenure\", \"plan\", \"monthly\"], \"data\": [\(batch)]}}")
            XCTAssertEqual(answer.status, 200, answer.text)
            XCTAssertEqual(answer.header("X-Model-Version"), "1.0.0")
        }
        // The log writer flushes at least once a second.
        let deadline = Date().addingTimeInterval(10)
        var logged = 0
        while Date() < deadline {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: logs.path)) ?? []
            logged = try files.reduce(0) { total, name in
                total + (try String(contentsOf: logs.appendingPathComponent(name), encoding: .utf8)).split(separator: "\n").count
            }
            if logged >= 30 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTAssertEqual(logged, 30, "one line per request")

        let monitor = try mv("monitor", "churn", "--data", "logs", "--since", "1h")
        XCTAssertEqual(monitor.status, 1, "the policy is breached: \(monitor.stdout)\(monitor.stderr)")
        XCTAssertTrue(monitor.stdout.contains("BREACH  drift_share < 0.5"), monitor.stdout)
        let tag = try git("tag", "-l", "monitor/churn/*")
        XCTAssertEqual(tag, "monitor/churn/v1.0.0/1")

        _ = try write(drifted, to: "new.csv")
        try mvOK("retrain", "churn", "--data", "new.csv", "--monitoring", tag)
        XCTAssertTrue(try git("show", "churn@v2.0.0:models/churn/model.yaml").contains("parent: churn@v1.0.0"))
        let gate = try mv("gate", "churn@v2", "--stage", "production")
        XCTAssertEqual(gate.status, 0, gate.stdout + gate.stderr)
        try mvOK("promote", "churn@v2", "--reason", "retrained after \(tag)")

        XCTAssertTrue(
            try server.waitUntil(5, "/v2/models/churn") { $0.text.contains("\"2.0.0\"") }, "the server follows the promotion")
        let answer = try server.post(
            "/invocations", json: "{\"dataframe_split\": {\"columns\": [\"tenure\", \"plan\", \"monthly\"], \"data\": [[30, \"max\", 70]]}}"
        )
        XCTAssertEqual(answer.status, 200, answer.text)
        XCTAssertEqual(answer.header("X-Model-Version"), "2.0.0")
        // The new version's traffic, monitored against its own reference: within the policy.
        Thread.sleep(forTimeInterval: 1.5)
        let history = try mvOK("history", "churn")
        XCTAssertTrue(history.contains("monitoring") && history.contains("churn@v2.0.0"), history)
        let fsck = try Self.run(["git", "fsck", "--strict"], in: root)
        XCTAssertEqual(fsck.status, 0, fsck.stderr)
    }
}
