import Foundation
import TestSupport
import XCTest

/// `mv monitor` as a user runs it: references recorded at training, reports committed with
/// tags, verdicts, exit statuses, live metrics and prediction logs.
final class MonitorCommandTests: MonitorTestCase {
    func testTrainingRecordsAReferenceOfItsTrainingRowsAndHoldOutPredictions() throws {
        try trainChurn()
        let text = try git("show", "churn@v1.0.0:models/churn/reference.yaml")
        XCTAssertTrue(text.contains("selection: \"training rows (1600 of 2000, seed 42)\""), text)
        // Parsed by an independent YAML reader.
        let script = """
            import sys, yaml
            r = yaml.safe_load(sys.stdin)
            cols = {c['name']: c for c in r['columns']}
            t = cols['tenure']
            assert t['type'] == 'numeric' and t['count'] == 1600 and t['missing'] == 0, t['count']
            assert len(t['quantiles']) == 101 and t['quantiles'][0] == t['min'] and t['quantiles'][-1] == t['max']
            assert sum(t['at']) + sum(t['between']) == t['count']
            assert abs(sum(t['psi_bins']['shares']) - 1) < 1e-9
            p = cols['plan']
            assert p['type'] == 'categorical' and sum(p['categories'].values()) + p['other'] == 1600 and p['distinct'] == 3
            assert set(p['categories']) == {'basic', 'pro', 'max'}
            pred = r['predictions']
            assert pred['type'] == 'categorical' and pred['count'] == 400, pred
            print('ok')
            """
        let checked = try Self.runPython(script, stdin: text, in: root)
        XCTAssertEqual(checked.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "ok", checked.stderr)
        XCTAssertLessThan(text.utf8.count, 3 * 6 * 1024, "a few KiB per column")
    }

    func testAReportIsCommittedWithATagThatHistoryListsAndGitAccepts() throws {
        try trainChurn()
        _ = try write(Self.churnCSV(rows: 3000, seed: 2), to: "today.csv")
        let first = try monitorJSON("churn", "--data", "today.csv")
        XCTAssertEqual(first.status, 0, "same distribution: within the default verdict")
        XCTAssertEqual((first.json["drift"] as? [String: Any])?["dataset_drifted"] as? Bool, false)
        XCTAssertEqual(try git("tag", "-l", "monitor/*"), "monitor/churn/v1.0.0/1")
        let committed = try git("show", "monitor/churn/v1.0.0/1:models/churn/monitoring/today.yaml")
        XCTAssertTrue(committed.hasPrefix("# mv monitoring report"), committed)
        XCTAssertTrue(committed.contains("version: v1.0.0"))
        let tagMessage = try git("tag", "-l", "--format=%(contents)", "monitor/churn/v1.0.0/1")
        XCTAssertTrue(tagMessage.contains("Drift-Share: 0\n"), tagMessage)
        XCTAssertTrue(tagMessage.contains("Verdict: ok"), tagMessage)
        XCTAssertEqual(try monitorJSON("churn", "--data", "today.csv").status, 0)
        XCTAssertEqual(try git("tag", "-l", "monitor/*").split(separator: "\n").count, 2)
        let history = try mvOK("history", "churn")
        XCTAssertTrue(history.contains("monitoring") && history.contains("monitor/churn/v1.0.0/2"), history)
        let fsck = try Self.run(["git", "fsck", "--strict"], in: root)
        XCTAssertEqual(fsck.status, 0, fsck.stderr)
        XCTAssertEqual(try git("status", "--porcelain", "--untracked-files=no"), "")
    }

    func testGTOIgnoresMonitoringTags() throws {
        guard try Self.run(["gto", "--version"], in: root).status == 0 else { throw XCTSkip("gto is not installed") }
        try trainChurn()
        _ = try write(Self.churnCSV(rows: 500, seed: 2), to: "today.csv")
        _ = try monitorJSON("churn", "--data", "today.csv")
        let shown = try Self.run(["gto", "show", "churn", "--json"], in: root)
        XCTAssertEqual(shown.status, 0, shown.stderr)
        XCTAssertFalse(shown.stdout.contains("monitor/"), shown.stdout)
    }

    func testDriftedFeaturesAreNamedWorstFirstAndBreachTheDefaultVerdict() throws {
        try trainChurn()
        _ = try write(Self.churnCSV(rows: 3000, seed: 3, shift: 1, plans: [0.1, 0.2, 0.7]), to: "drifted.csv")
        let before = try snapshot()
        let run = try monitorJSON("churn", "--data", "drifted.csv", "--no-commit")
        XCTAssertEqual(run.status, 1, "the dataset drifted: exit 1")
        XCTAssertEqual(try snapshot(), before, "--no-commit writes nothing")
        let names = (run.json["features"] as? [[String: Any]] ?? []).map { $0["name"] as? String ?? "" }
        // monthly follows plan (the max plan costs more), so it drifts with it.
        XCTAssertEqual(Set(names), ["tenure", "plan", "monthly"])
        let severities = (run.json["features"] as? [[String: Any]] ?? []).map {
            ($0["score"] as? Double ?? 0) / ($0["threshold"] as? Double ?? 1)
        }
        XCTAssertEqual(severities, severities.sorted(by: >), "worst first")
        let columns = features(run.json)
        XCTAssertEqual(columns["tenure"]?["test"] as? String, "wasserstein")
        XCTAssertEqual(columns["tenure"]?["drifted"] as? Bool, true)
        XCTAssertEqual(columns["plan"]?["test"] as? String, "jensenshannon")
        XCTAssertEqual(columns["plan"]?["drifted"] as? Bool, true)
        XCTAssertGreaterThan(columns["tenure"]?["out_of_range"] as? Double ?? 0, 0.1, "a shifted column leaves the training range")
        XCTAssertEqual((run.json["predictions"] as? [String: Any])?["drifted"] as? Bool, true, "fewer churners predicted")
        // Without --json: the table, worst first, and the markdown form.
        let table = try mv("monitor", "churn", "--data", "drifted.csv", "--no-commit")
        XCTAssertEqual(table.status, 1)
        XCTAssertTrue(table.stdout.contains("policy: BREACHED"), table.stdout)
        let markdown = try mv("monitor", "churn", "--data", "drifted.csv", "--no-commit", "--markdown")
        XCTAssertTrue(markdown.stdout.contains("| tenure | numeric | wasserstein |"), markdown.stdout)
    }

    func testPolicyRulesDecideTheExitStatus() throws {
        try trainChurn()
        try mvOK("promote", "churn@v1")
        _ = try write(Self.churnCSV(rows: 3000, seed: 4, plans: [0.4, 0.3, 0.3]), to: "mild.csv")
        let policy = """
            monitoring:
              - model: churn
                rules:
                  - plan.psi <= 0.01
                  - accuracy >= production.accuracy - 0.05
            """
        try appendToConfig(policy)
        let strict = try monitorJSON("churn", "--data", "mild.csv", "--no-commit")
        XCTAssertEqual(strict.status, 1, "plan's PSI is above 0.01")
        let rules = (strict.json["policy"] as? [String: Any])?["rules"] as? [[String: Any]] ?? []
        XCTAssertEqual(rules.map { $0["passed"] as? Bool }, [false, true])
        XCTAssertEqual(rules.last?["skipped"] as? Bool, false, "labels in the CSV: the accuracy rule is checked")
        try replaceConfigPolicy(policy, with: policy.replacingOccurrences(of: "plan.psi <= 0.01", with: "plan.psi <= 0.5"))
        XCTAssertEqual(try monitorJSON("churn", "--data", "mild.csv", "--no-commit").status, 0)

        // Strictly parsed: the line of the problem, exit 2, nothing committed.
        try replaceConfigPolicy(
            policy.replacingOccurrences(of: "plan.psi <= 0.01", with: "plan.psi <= 0.5"), with: "monitoring:\n  - rules: [psy <= 0.2]\n")
        let before = try snapshot()
        let broken = try mv("monitor", "churn", "--data", "mild.csv")
        XCTAssertEqual(broken.status, 2)
        XCTAssertTrue(broken.stderr.contains(".mv.yaml:") && broken.stderr.contains("unknown figure 'psy'"), broken.stderr)
        XCTAssertEqual(try snapshot(), before)
    }

    func testLabelsGiveLiveMetricsBesideTheHoldOut() throws {
        try trainChurn()
        _ = try write(Self.churnCSV(rows: 1000, seed: 5, id: true, target: false), to: "rows.csv")
        let labelled = Self.churnCSV(rows: 1000, seed: 5, id: true, target: true).split(separator: "\n").map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            return "\(cells[0]),\(cells[cells.count - 1])"
        }
        _ = try write(labelled.joined(separator: "\n") + "\n", to: "labels.csv")
        let run = try monitorJSON("churn", "--data", "rows.csv", "--labels", "labels.csv", "--id-column", "id", "--no-commit")
        XCTAssertEqual(run.status, 0)
        let live = run.json["live"] as? [String: Any]
        XCTAssertEqual(live?["labelled_rows"] as? Int, 1000)
        let metrics = live?["metrics"] as? [[String: Any]] ?? []
        let accuracy = metrics.first { $0["name"] as? String == "accuracy" }
        XCTAssertGreaterThan(accuracy?["value"] as? Double ?? 0, 0.7)
        XCTAssertNotNil(accuracy?["holdout"] as? Double)
        XCTAssertEqual(
            accuracy?["delta"] as? Double ?? .nan, (accuracy?["value"] as? Double ?? 0) - (accuracy?["holdout"] as? Double ?? 0),
            accuracy: 1e-12)

        // Ids that match no row: one line, exit 2.
        _ = try write("id,churned\nnope,yes\n", to: "other-labels.csv")
        let unmatched = try mv("monitor", "churn", "--data", "rows.csv", "--labels", "other-labels.csv", "--id-column", "id")
        XCTAssertEqual(unmatched.status, 2)
        XCTAssertTrue(unmatched.stderr.contains("no row of rows.csv has a label"), unmatched.stderr)
        let noID = try mv("monitor", "churn", "--data", "rows.csv", "--labels", "labels.csv")
        XCTAssertEqual(noID.status, 2)
        XCTAssertTrue(noID.stderr.contains("--labels needs --id-column"), noID.stderr)
    }

    func testPredictionLogsSelectTheirVersionAndTimeWindow() throws {
        try trainChurn()
        try mvOK("train", "churn", "--data", "train.csv", "--target", "churned", "--algorithm", "logistic-regression", "--seed", "7")
        func record(_ time: String, _ version: String, _ rows: [[String]], model: String = "churn") -> String {
            let cells = rows.map { "[\($0[0]),\"\($0[1])\",\($0[2])]" }.joined(separator: ",")
            let predictions = rows.map { _ in "\"no\"" }.joined(separator: ",")
            return
                "{\"time\":\"\(time)\",\"request_id\":\"r\",\"model\":\"\(model)\",\"version\":\"\(version)\",\"commit\":\"x\",\"route\":\"mlflow_invocations\",\"latency_ms\":1.0,\"columns\":[\"tenure\",\"plan\",\"monthly\"],\"rows\":[\(cells)],\"predictions\":[\(predictions)]}"
        }
        let rows = Self.churnCSV(rows: 400, seed: 9, target: false).split(separator: "\n").dropFirst().map {
            $0.split(separator: ",").map(String.init)
        }
        var lines: [String] = []
        for (index, row) in rows.enumerated() {
            let day = index < 200 ? "2026-12-01" : "2026-12-02"
            lines.append(record("\(day)T10:00:00.000Z", index % 2 == 0 ? "1.0.0" : "2.0.0", [row]))
        }
        lines.append(record("2026-12-02T11:00:00.000Z", "1.0.0", [rows[0]], model: "other"))
        _ = try write(lines.joined(separator: "\n") + "\n", to: "logs/predictions-1.jsonl")

        let mixed = try mv("monitor", "churn", "--data", "logs", "--no-commit")
        XCTAssertEqual(mixed.status, 2)
        XCTAssertTrue(mixed.stderr.contains("several versions of 'churn' (v1.0.0, v2.0.0)"), mixed.stderr)
        let one = try monitorJSON("churn@v1", "--data", "logs", "--no-commit")
        XCTAssertEqual(one.status, 0, "\(one.json)")
        XCTAssertEqual(one.json["version"] as? String, "v1.0.0")
        XCTAssertEqual((one.json["data"] as? [String: Any])?["rows"] as? Int, 200)
        let window = try monitorJSON("churn@v2", "--data", "logs", "--since", "2026-12-02", "--until", "2026-12-03", "--no-commit")
        XCTAssertEqual((window.json["data"] as? [String: Any])?["rows"] as? Int, 100)
        XCTAssertEqual((window.json["data"] as? [String: Any])?["since"] as? String, "2026-12-02T00:00:00Z")

        let empty = try mv("monitor", "churn@v2", "--data", "logs", "--since", "2027-01-01")
        XCTAssertEqual(empty.status, 2)
        XCTAssertTrue(empty.stderr.contains("no predictions of churn@v2.0.0 since 2027-01-01"), empty.stderr)
        _ = try write(record("2026-12-02T11:00:00.000Z", "1.0.0", [rows[0]], model: "other") + "\n", to: "other/p.jsonl")
        let foreign = try mv("monitor", "churn", "--data", "other")
        XCTAssertEqual(foreign.status, 2)
        XCTAssertTrue(foreign.stderr.contains("the log holds predictions of 'other', not of 'churn'"), foreign.stderr)
        // The logs were read, never committed.
        XCTAssertEqual(try git("tag", "-l", "monitor/*"), "")
    }

    func testBadInputIsOneLineExitTwoAndNothingCommitted() throws {
        try trainChurn()
        try mvOK("add", "imported", "--weights", try writeWeights())
        let cases: [(arguments: [String], file: (name: String, text: String)?, expected: String)] = [
            (["churn", "--data", "nowhere.csv"], nil, "cannot read data '"),
            (["churn", "--data", "empty.csv"], ("empty.csv", ""), "'empty.csv' is empty"),
            (["churn", "--data", "header.csv"], ("header.csv", "tenure,plan,monthly\n"), "has a header but no rows"),
            (["churn", "--data", "missing.csv"], ("missing.csv", "tenure,plan\n1,pro\n"), "lacks the column 'monthly'"),
            (["churn", "--data", "extra.csv"], ("extra.csv", "tenure,plan,monthly,zip\n1,pro,3,9\n"), "unexpected column 'zip'"),
            (
                ["churn", "--data", "type.csv"], ("type.csv", "tenure,plan,monthly\nlong,pro,3\n"),
                "line 2: column 'tenure' holds 'long', not a number"
            ),
            (["churn", "--data", "ragged.csv"], ("ragged.csv", "tenure,plan,monthly\n1,pro\n"), "line 2: 2 fields, but the header has 3"),
            (["churn", "--data", "binary.csv"], ("binary.csv", "tenure,plan,monthly\n1,\u{0}pro,3\n"), "a NUL byte"),
            (["churn", "--data", "junk.jsonl"], ("junk.jsonl", "not json\n"), "junk.jsonl line 1: not JSON"),
            (["churn@v9", "--data", "train.csv"], nil, "has no version v9.0.0"),
            (["../x", "--data", "train.csv"], nil, "invalid model name"),
            (["imported", "--data", "train.csv"], nil, "has no reference distributions"),
            (["churn", "--data", "train.csv", "--since", "24h"], nil, "--since and --until select prediction log records"),
            (["churn", "--data", "logs", "--since", "yesterday"], nil, "--since 'yesterday' is neither an ISO 8601 time nor a duration"),
            (["churn", "--data", "train.csv", "--drift-share", "2"], nil, "--drift-share must be above 0"),
            (["churn", "--data", "train.csv", "--numeric-test", "t"], nil, "--numeric-test must be ks or wasserstein"),
            (["churn", "--data", "train.csv", "--name", "../up"], nil, "invalid report name"),
        ]
        for (arguments, file, expected) in cases {
            if let file { _ = try write(file.text, to: file.name) }
            let before = try snapshot()
            let result = try mv(["monitor"] + arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            XCTAssertTrue(
                lines.first?.hasPrefix("mv: error: ") == true && lines.first?.contains(expected) == true, "\(arguments): \(result.stderr)")
            XCTAssertLessThanOrEqual(lines.count, 2, "one error line and at most a hint: \(result.stderr)")
            XCTAssertEqual(try snapshot(), before, "\(arguments) changed the repository")
        }
        XCTAssertEqual(try git("tag", "-l", "monitor/*"), "")
    }

    func testAVersionWithoutAReferenceIsMonitoredAgainstAFileOrRecordsOneOnAdd() throws {
        _ = try write(Self.churnCSV(rows: 1500, seed: 1, target: false), to: "inputs.csv")
        try mvOK("add", "imported", "--weights", try writeWeights(), "--reference", "inputs.csv")
        let recorded = try git("show", "imported@v1.0.0:models/imported/reference.yaml")
        XCTAssertTrue(recorded.contains("name: tenure") && recorded.contains("name: plan"), recorded)
        _ = try write(Self.churnCSV(rows: 2000, seed: 2, shift: 1, target: false), to: "now.csv")
        let run = try monitorJSON("imported", "--data", "now.csv", "--no-commit")
        XCTAssertEqual(run.status, 0, "one of three columns drifted: below the dataset share")
        XCTAssertEqual(features(run.json)["tenure"]?["drifted"] as? Bool, true)
        XCTAssertNil(run.json["predictions"], "mv cannot run imported weights: no prediction drift")

        try mvOK("add", "bare", "--weights", try writeWeights())
        let compared = try monitorJSON("bare", "--data", "now.csv", "--reference", "inputs.csv", "--no-commit")
        XCTAssertEqual(compared.status, 0)
        XCTAssertEqual(features(compared.json)["tenure"]?["drifted"] as? Bool, true)
        XCTAssertEqual((compared.json["reference"] as? [String: Any])?["from"] as? String, "--reference inputs.csv")

        // A reference that cannot be read stops mv add before anything is stored.
        _ = try write("a,b\n1\n", to: "broken.csv")
        let weights = try writeWeights()
        let before = try snapshot()
        let refused = try mv("add", "other", "--weights", weights, "--reference", "broken.csv")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertEqual(try snapshot(), before)
    }

    func testAReferenceFileAlsoGivesTheVersionsPredictionsOnItsRows() throws {
        try trainChurn()
        _ = try write(Self.churnCSV(rows: 1500, seed: 4), to: "last-month.csv")
        _ = try write(Self.churnCSV(rows: 1500, seed: 5, shift: 1), to: "today.csv")
        let run = try monitorJSON("churn", "--data", "today.csv", "--reference", "last-month.csv", "--no-commit")
        XCTAssertEqual((run.json["reference"] as? [String: Any])?["rows"] as? Int, 1500)
        let predictions = run.json["predictions"] as? [String: Any]
        XCTAssertEqual(predictions?["type"] as? String, "categorical", "class labels, as the version predicts them")
        XCTAssertEqual(predictions?["drifted"] as? Bool, true, "longer tenures: fewer churners predicted")
    }

    func testRetrainRepeatsTheRecordedRecipeAndRecordsItsParent() throws {
        _ = try write(Self.churnCSV(rows: 1000, seed: 1), to: "train.csv")
        try mvOK(
            "train", "churn", "--data", "train.csv", "--target", "churned", "--algorithm", "logistic-regression", "--test-size", "0.3",
            "--seed", "11", "--param", "max_iter=300", "--standardize")
        _ = try write(Self.churnCSV(rows: 3000, seed: 2, shift: 1), to: "new.csv")
        XCTAssertEqual(try monitorJSON("churn", "--data", "new.csv").status, 1)
        try mvOK("retrain", "churn", "--data", "new.csv", "--monitoring", "monitor/churn/v1.0.0/1", "--reason", "tenure drifted")
        let parent = try git("show", "churn@v1.0.0:models/churn/model.yaml")
        let child = try git("show", "churn@v2.0.0:models/churn/model.yaml")
        func line(_ text: String, _ key: String) -> String? {
            text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(key + ":") }.map(String.init)
        }
        for key in ["algorithm", "max_iter", "solver", "test_size", "seed", "task"] {
            XCTAssertEqual(line(child, key), line(parent, key), key)
        }
        XCTAssertTrue(child.contains("\"standardize\":true") || child.contains("standardize: true"), child)
        XCTAssertTrue(child.contains("parent: churn@v1.0.0"), child)
        XCTAssertTrue(child.contains("reason: \"tenure drifted; monitoring monitor/churn/v1.0.0/1\""), child)
        XCTAssertTrue(try git("log", "-1", "--format=%B", "churn@v2.0.0").contains("Retrained from churn@v1.0.0"))
        XCTAssertTrue(try git("show", "churn@v2.0.0:models/churn/reference.yaml").contains("path: new.csv"))

        // A recipe the data does not fit, and a tag that is not a monitoring run: refused.
        _ = try write("tenure,plan,churned\n1,pro,yes\n", to: "narrow.csv")
        let before = try snapshot()
        let narrow = try mv("retrain", "churn", "--data", "narrow.csv")
        XCTAssertNotEqual(narrow.status, 0)
        XCTAssertTrue(narrow.stderr.contains("lacks the column 'monthly'"), narrow.stderr)
        let wrongTag = try mv("retrain", "churn", "--data", "new.csv", "--monitoring", "churn@v1.0.0")
        XCTAssertTrue(wrongTag.stderr.contains("is not a monitoring tag of 'churn'"), wrongTag.stderr)
        XCTAssertEqual(try snapshot(), before)
    }

    func testRetrainRunsAUsersTrainingCommandAgainWithTheNewData() throws {
        let script = """
            import os, sys, struct
            out = os.environ['MV_OUTPUT_DIR']
            rows = open(os.environ['MV_DATA']).read().strip().split('\\n')[1:]
            mean = sum(float(r.split(',')[0]) for r in rows) / len(rows)
            header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }"
            header += ' ' * (128 - 10 - len(header) - 1) + '\\n'
            with open(os.path.join(out, 'w.npy'), 'wb') as f:
                f.write(b'\\x93NUMPY\\x01\\x00' + struct.pack('<H', len(header)) + header.encode() + struct.pack('<d', mean))
            """
        _ = try write(script, to: "fit.py")
        _ = try write(Self.churnCSV(rows: 300, seed: 1), to: "a.csv")
        _ = try write(Self.churnCSV(rows: 300, seed: 2, shift: 1), to: "b.csv")
        try mvOK("train", "own", "--data", "a.csv", "--reference", "a.csv", "--", "python3", "fit.py")
        try mvOK("retrain", "own", "--data", "b.csv", "--reason", "new month")
        let child = try git("show", "own@v2.0.0:models/own/model.yaml")
        XCTAssertTrue(child.contains("train_command: [python3, fit.py]"), child)
        XCTAssertTrue(child.contains("parent: own@v1.0.0") && child.contains("reason: new month"), child)
        XCTAssertTrue(child.contains("path: b.csv"), "the new data is the lineage's: \(child)")
        XCTAssertNotEqual(
            try git("rev-parse", "own@v1.0.0:models/own/params/w.npy"), try git("rev-parse", "own@v2.0.0:models/own/params/w.npy"),
            "the command saw the new data")
    }

    // MARK: helpers

    func writeWeights() throws -> String {
        let folder = root.appendingPathComponent("weights-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
        header += String(repeating: " ", count: 128 - 10 - header.count - 1) + "\n"
        var data = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0, UInt8(header.utf8.count), 0]) + Data(header.utf8)
        for value in [1.5, -2.0] { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        try data.write(to: folder.appendingPathComponent("w.npy"))
        return folder.lastPathComponent
    }

    func appendToConfig(_ text: String) throws {
        let url = root.appendingPathComponent(".mv.yaml")
        let current = try String(contentsOf: url, encoding: .utf8)
        try (current + text + "\n").write(to: url, atomically: true, encoding: .utf8)
        try git("commit", "-qam", "monitoring policy")
    }

    func replaceConfigPolicy(_ old: String, with new: String) throws {
        let url = root.appendingPathComponent(".mv.yaml")
        let current = try String(contentsOf: url, encoding: .utf8)
        try current.replacingOccurrences(of: old, with: new).write(to: url, atomically: true, encoding: .utf8)
        try git("commit", "-qam", "monitoring policy")
    }

    static func runPython(_ script: String, stdin: String, in folder: URL) throws -> ProcessResult {
        let file = folder.appendingPathComponent("check-\(UUID().uuidString.prefix(6)).py")
        try script.write(to: file, atomically: true, encoding: .utf8)
        let input = folder.appendingPathComponent("input-\(UUID().uuidString.prefix(6)).txt")
        try stdin.write(to: input, atomically: true, encoding: .utf8)
        defer {
            try? FileManager.default.removeItem(at: file)
            try? FileManager.default.removeItem(at: input)
        }
        return try run(["sh", "-c", "python3 '\(file.path)' < '\(input.path)'"], in: folder)
    }
}

/// A large file is read in parts on every core; the result is the one pass's.
final class MonitorPartsTests: MonitorTestCase {
    func testAFileReadInPartsGivesWhatOnePassGives() throws {
        try trainChurn()
        // 4 MiB or more: past the size at which mv reads in parts.
        var text = Self.churnCSV(rows: 220_000, seed: 8, shift: 0.3)
        XCTAssertGreaterThan(text.utf8.count, 4 << 20)
        _ = try write(text, to: "parts.csv")
        // One quoted label anywhere: a quoted field may hold a newline, so one pass it is.
        if let range = text.range(of: ",pro,") { text.replaceSubrange(range, with: ",\"pro\",") }
        _ = try write(text, to: "one-pass.csv")
        var traced = GitTestCase.environment
        traced["MV_TRACE"] = "1"
        let trace = try mv(["monitor", "churn", "--data", "parts.csv", "--no-commit"], environment: traced)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if cores > 1 {
            XCTAssertTrue(trace.stderr.contains("monitor: read parts.csv in \(min(cores, 8)) parts"), trace.stderr)
        }
        let once = try mv(["monitor", "churn", "--data", "one-pass.csv", "--no-commit"], environment: traced)
        XCTAssertFalse(once.stderr.contains("monitor: read"), once.stderr)
        let parts = try monitorJSON("churn", "--data", "parts.csv", "--no-commit")
        let single = try monitorJSON("churn", "--data", "one-pass.csv", "--no-commit")
        XCTAssertEqual((parts.json["data"] as? [String: Any])?["rows"] as? Int, 220_000)
        XCTAssertEqual((single.json["data"] as? [String: Any])?["rows"] as? Int, 220_000)
        XCTAssertEqual(parts.status, single.status)
        let a = features(parts.json)
        let b = features(single.json)
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (name, column) in a {
            for key in ["psi", "ks", "ks_p", "wasserstein", "jensenshannon", "missing", "out_of_range", "score"] {
                guard let x = column[key] as? Double, let y = b[name]?[key] as? Double else { continue }
                XCTAssertEqual(x, y, accuracy: 1e-9 * max(1, abs(y)), "\(name).\(key)")
            }
            XCTAssertEqual(column["drifted"] as? Bool, b[name]?["drifted"] as? Bool, name)
        }
        let live = { (json: [String: Any]) in ((json["live"] as? [String: Any])?["metrics"] as? [[String: Any]])?.first?["value"] as? Double
        }
        XCTAssertEqual(live(parts.json) ?? -1, live(single.json) ?? -2, accuracy: 1e-12)
    }
}
