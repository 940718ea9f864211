import Foundation
import TestSupport
import XCTest

/// The lifecycle after training, end to end: eval, promote/demote/deprecate/rollback,
/// agreement with GTO, diff, the textconv driver, history, checkout and export — each
/// on a fresh repository, judged by git, gto and python.
final class LifecycleTests: LifecycleTestCase {

    // MARK: 1. mv eval

    func testEvalCommitsReportAndTagAndKeepsGTOVersionsIntact() throws {
        try initRepository()
        try train("m")
        try train("m", seed: 7)
        let versionTagsBefore = try git("tag", "-l", "*@v*")

        let first = try ok("eval", "m@v1", "--data", "test.csv")
        XCTAssertTrue(first.stdout.contains("Evaluated m v1.0.0 on 40 rows (test)"), first.stdout)
        XCTAssertTrue(first.stdout.contains("tagged eval/m/v1.0.0/1"), first.stdout)
        XCTAssertEqual(try git("cat-file", "-t", "eval/m/v1.0.0/1"), "tag")
        XCTAssertEqual(try git("rev-parse", "eval/m/v1.0.0/1^{commit}"), try git("rev-parse", "HEAD"))
        XCTAssertEqual(try git("show", "--name-only", "--format=", "HEAD"), "models/m/eval/test.yaml")
        XCTAssertEqual(try git("rev-parse", "HEAD~1"), try git("rev-parse", "m@v2.0.0^{commit}"), "one new commit on the branch")
        XCTAssertEqual(try git("status", "--porcelain", "--", "models"), "")
        XCTAssertTrue(try git("show", "HEAD:models/m/eval/test.yaml").contains("version: v1.0.0"))

        // Same version, same data: a second run, a second tag.
        let second = try ok("eval", "m@v1", "--data", "test.csv")
        XCTAssertTrue(second.stdout.contains("tagged eval/m/v1.0.0/2"), second.stdout)
        XCTAssertEqual(try git("cat-file", "-t", "eval/m/v1.0.0/2"), "tag")
        XCTAssertEqual(try git("rev-parse", "eval/m/v1.0.0/2^{commit}"), try git("rev-parse", "HEAD"))
        XCTAssertNotEqual(try git("rev-parse", "eval/m/v1.0.0/1^{commit}"), try git("rev-parse", "eval/m/v1.0.0/2^{commit}"))

        // --name chooses the report file; numbering is per version.
        let named = try ok("eval", "m@v2", "--data", "test.csv", "--name", "fresh", "--json")
        let result = try jsonObject(named.stdout)
        XCTAssertEqual(result["tag"] as? String, "eval/m/v2.0.0/1")
        XCTAssertEqual(result["report"] as? String, "models/m/eval/fresh.yaml")
        XCTAssertEqual(result["rows"] as? Int, 40)
        XCTAssertEqual(try git("show", "--name-only", "--format=", "HEAD"), "models/m/eval/fresh.yaml")
        XCTAssertTrue(try git("tag", "-l", "--format=%(contents)", "eval/m/v2.0.0/1").contains("Report: models/m/eval/fresh.yaml"))
        XCTAssertEqual(try git("tag", "-l", "eval/*").split(separator: "\n"), ["eval/m/v1.0.0/1", "eval/m/v1.0.0/2", "eval/m/v2.0.0/1"])

        // The version tags are untouched, and GTO still sees exactly them.
        XCTAssertEqual(try git("tag", "-l", "*@v*"), versionTagsBefore)
        if try gtoAvailable() {
            let shown = try Self.run(["gto", "show", "--json"], in: root)
            XCTAssertEqual(shown.status, 0, shown.stderr)
            let models = try jsonObject(shown.stdout)
            XCTAssertEqual(Set(models.keys), ["m"], shown.stdout)
            XCTAssertEqual((models["m"] as? [String: Any])?["version"] as? String, "v2.0.0", shown.stdout)
            let versions = try Self.run(["gto", "show", "m", "--json"], in: root)
            XCTAssertEqual(versions.status, 0, versions.stderr)
            let listed = (try json(versions.stdout) as? [[String: Any]])?.compactMap { $0["version"] as? String }
            XCTAssertEqual(Set(listed ?? []), ["v1.0.0", "v2.0.0"], versions.stdout)
        }

        // The report's metrics are what the v2 parameters (read from Git) score on test.csv.
        let metrics = try XCTUnwrap(result["metrics"] as? [String: Double])
        let check = """
            import io, json, subprocess, numpy, yaml
            def blob(spec): return subprocess.check_output(['git', 'show', spec])
            coef = numpy.load(io.BytesIO(blob('m@v2.0.0:models/m/params/coef.npy')))
            b = numpy.load(io.BytesIO(blob('m@v2.0.0:models/m/params/intercept.npy')))
            data = numpy.loadtxt('test.csv', delimiter=',', skiprows=1)
            x, y = data[:, :1], data[:, 1]
            p = x @ coef + b[0]
            mse = float(numpy.mean((p - y) ** 2)); mae = float(numpy.mean(numpy.abs(p - y)))
            r2 = 1 - float(numpy.sum((p - y) ** 2)) / float(numpy.sum((y - y.mean()) ** 2))
            report = yaml.safe_load(blob('HEAD:models/m/eval/fresh.yaml'))
            print(json.dumps({'computed': {'mse': mse, 'rmse': mse ** 0.5, 'mae': mae, 'r2': r2}, 'report': report['metrics'],
                              'model': report['model'], 'version': report['version'], 'rows': report['dataset']['rows'],
                              'path': report['dataset']['path']}))
            """
        let output = try jsonObject(try python(check))
        let computed = try XCTUnwrap(output["computed"] as? [String: Double])
        let report = try XCTUnwrap(output["report"] as? [String: Double])
        XCTAssertEqual(Set(report.keys), ["mse", "rmse", "mae", "r2"])
        for name in ["mse", "rmse", "mae", "r2"] {
            let expected = try XCTUnwrap(computed[name])
            XCTAssertEqual(try XCTUnwrap(report[name]), expected, accuracy: 1e-9 * max(1, abs(expected)), name)
            XCTAssertEqual(try XCTUnwrap(metrics[name]), try XCTUnwrap(report[name]), accuracy: 1e-12, name)
        }
        XCTAssertEqual(output["model"] as? String, "m")
        XCTAssertEqual(output["version"] as? String, "v2.0.0")
        XCTAssertEqual(output["rows"] as? Int, 40)
        XCTAssertEqual(output["path"] as? String, "test.csv")

        // mv show lists the evaluation of the version it belongs to.
        let show = try ok("show", "m@v1")
        XCTAssertTrue(show.stdout.contains("evaluation test: test.csv"), show.stdout)
        let showJSON = try jsonObject(try ok("show", "m@v1", "--json").stdout)
        let evaluations = try XCTUnwrap(showJSON["evaluations"] as? [String: Any])
        XCTAssertEqual(Set(evaluations.keys), ["holdout", "test"])
        let showV2 = try jsonObject(try ok("show", "m@v2", "--json").stdout)
        XCTAssertEqual(Set((showV2["evaluations"] as? [String: Any])?.keys.map { $0 } ?? []), ["holdout", "fresh"])
        // Every object mv wrote is reachable: no intermediate trees left dangling.
        XCTAssertEqual(try git("fsck", "--strict", "--no-reflogs"), "")
    }

    func testEvalReadsParametersFromGitNotTheWorkTree() throws {
        try initRepository()
        try train("m")
        try train("m", seed: 7)
        let direct = try jsonObject(try ok("eval", "m@v2", "--data", "test.csv", "--name", "direct", "--json").stdout)
        let directMetrics = try XCTUnwrap(direct["metrics"] as? [String: Double])
        let v1 = try jsonObject(try ok("eval", "m@v1", "--data", "test.csv", "--name", "other", "--json").stdout)
        XCTAssertNotEqual(
            v1["metrics"] as? [String: Double], directMetrics, "v1 and v2 must score differently for this test to mean anything")

        // The work tree now holds v1's parameters.
        try ok("checkout", "m@v1")
        XCTAssertEqual(try git("hash-object", "models/m/params/coef.npy"), try git("rev-parse", "m@v1.0.0:models/m/params/coef.npy"))

        let after = try jsonObject(try ok("eval", "m@v2", "--data", "test.csv", "--name", "after", "--json").stdout)
        XCTAssertEqual(after["version"] as? String, "v2.0.0")
        XCTAssertEqual(after["metrics"] as? [String: Double], directMetrics, "eval of v2 used the work tree's v1 parameters")
        let fromYAML = try python(
            """
            import subprocess, yaml, json
            print(json.dumps(yaml.safe_load(subprocess.check_output(['git', 'show', 'HEAD:models/m/eval/after.yaml']))['metrics']))
            """)
        XCTAssertEqual(try json(fromYAML) as? [String: Double], directMetrics)
        XCTAssertEqual(try git("cat-file", "-t", "eval/m/v2.0.0/2"), "tag")
    }

    // MARK: 2. mv promote

    func testPromoteWritesAnnotatedStageTagsAndAStagesJournal() throws {
        try initRepository()
        try train("m")
        try train("m", seed: 7)

        let promoted = try ok("promote", "v1", "-m", "first release: ticket 42")
        XCTAssertTrue(promoted.stdout.contains("Promoted m@v1.0.0 to production"), promoted.stdout)
        XCTAssertTrue(promoted.stdout.contains("m#production#1"), promoted.stdout)
        XCTAssertEqual(try git("cat-file", "-t", "m#production#1"), "tag", "annotated")
        XCTAssertEqual(try git("rev-parse", "m#production#1^{commit}"), try git("rev-parse", "m@v1.0.0^{commit}"))
        XCTAssertTrue(try git("tag", "-l", "--format=%(contents)", "m#production#1").contains("first release: ticket 42"))
        XCTAssertEqual(try git("show", "--name-only", "--format=", "HEAD"), ".mv/stages/m.yaml")
        XCTAssertTrue(try git("log", "-1", "--format=%B").contains("first release: ticket 42"))
        XCTAssertEqual(try git("status", "--porcelain", "--", ".mv", "models"), "")

        let staging = try ok("promote", "v2", "--stage", "staging")
        XCTAssertTrue(staging.stdout.contains("m#staging#2"), staging.stdout)
        XCTAssertEqual(try git("rev-parse", "m#staging#2^{commit}"), try git("rev-parse", "m@v2.0.0^{commit}"))
        let production = try ok("promote", "m@v2")
        XCTAssertTrue(production.stdout.contains("m#production#3"), production.stdout)
        XCTAssertTrue(production.stdout.contains("(was v1.0.0)"), production.stdout)

        // Promoting the holder again changes nothing.
        let head = try git("rev-parse", "HEAD")
        let again = try ok("promote", "m@v2")
        XCTAssertTrue(again.stdout.contains("already holds production"), again.stdout)
        XCTAssertEqual(try git("rev-parse", "HEAD"), head)

        let demoted = try ok("demote", "m@v2")
        XCTAssertTrue(demoted.stdout.contains("m#production!#4"), demoted.stdout)
        XCTAssertEqual(try git("cat-file", "-t", "m#production!#4"), "tag")
        try ok("promote", "m@v1", "--stage", "staging")
        XCTAssertEqual(try git("cat-file", "-t", "m#staging#5"), "tag")
        XCTAssertEqual(
            try git("tag", "-l", "m#*").split(separator: "\n").sorted(),
            ["m#production!#4", "m#production#1", "m#production#3", "m#staging#2", "m#staging#5"])

        // Every stage change is one commit of the stages file, and its log reads as a journal.
        let journal = try git("log", "-p", "--format=COMMIT %s", "--", ".mv/stages/m.yaml")
        XCTAssertEqual(journal.components(separatedBy: "COMMIT ").count - 1, 5, journal)
        XCTAssertTrue(journal.contains("+    version: v1.0.0\n+    tag: \"m#production#1\""), journal)
        XCTAssertTrue(journal.contains("-    version: v1.0.0\n-    tag: \"m#production#1\""), journal)
        XCTAssertTrue(journal.contains("+    version: v2.0.0\n+    tag: \"m#production#3\""), journal)
        XCTAssertTrue(
            journal.contains("+    reason: \"first release: ticket 42\"") || journal.contains("+    reason: first release: ticket 42")
                || journal.contains("+    reason: 'first release: ticket 42'"), journal)
        let stages = try git("show", "HEAD:.mv/stages/m.yaml")
        XCTAssertTrue(stages.contains("production:\n    version: v1.0.0"), stages)
        XCTAssertTrue(stages.contains("staging:\n    version: v1.0.0\n    tag: \"m#staging#5\""), stages)
        let list = try json(try ok("list", "--json").stdout) as? [[String: Any]]
        XCTAssertEqual(list?.first?["stages"] as? [String: String], ["production": "v1.0.0", "staging": "v1.0.0"])
        // Every object mv wrote is reachable: no intermediate trees left dangling.
        XCTAssertEqual(try git("fsck", "--strict", "--no-reflogs"), "")
    }

    func testPromoteWithTwoModelsNeedsAModel() throws {
        try initRepository()
        try train("m")
        try train("other")
        try assertRefused(["promote", "v1"], mentions: ["'v1' is ambiguous", "m, other", "--model"])

        let byName = try ok("promote", "other@v1")
        XCTAssertTrue(byName.stdout.contains("Promoted other@v1.0.0 to production"), byName.stdout)
        XCTAssertEqual(try git("rev-parse", "other#production#1^{commit}"), try git("rev-parse", "other@v1.0.0^{commit}"))
        let byOption = try ok("promote", "v1", "--model", "other", "--stage", "staging")
        XCTAssertTrue(byOption.stdout.contains("other#staging#2"), byOption.stdout)
        XCTAssertEqual(try git("rev-parse", "other#staging#2^{commit}"), try git("rev-parse", "other@v1.0.0^{commit}"))
        // Counters are per model.
        let mine = try ok("promote", "v1", "--model", "m")
        XCTAssertTrue(mine.stdout.contains("m#production#1"), mine.stdout)
        XCTAssertEqual(try git("rev-parse", "m#production#1^{commit}"), try git("rev-parse", "m@v1.0.0^{commit}"))
        XCTAssertEqual(
            try git("ls-tree", "--name-only", "HEAD", ".mv/stages/").split(separator: "\n"),
            [".mv/stages/m.yaml", ".mv/stages/other.yaml"])
    }

    // MARK: 3. Agreement with GTO

    /// Stage holders and latest versions as mv and gto see them.
    func assertAgreesWithGTO(_ step: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let listed = try mv("list", "--json")
        XCTAssertEqual(listed.status, 0, "\(step): \(listed.stderr)", file: file, line: line)
        var mine: [String: String] = [:]
        for model in (try json(listed.stdout) as? [[String: Any]]) ?? [] {
            let name = model["name"] as? String ?? "?"
            let stages = (model["stages"] as? [String: String]) ?? [:]
            let latest = (model["latest"] as? [String: Any])?["version"] as? String ?? "none"
            mine[name] = "latest=\(latest) " + stages.keys.sorted().map { "\($0)=\(stages[$0]!)" }.joined(separator: " ")
        }
        let shown = try Self.run(["gto", "show", "--json"], in: root)
        XCTAssertEqual(shown.status, 0, "\(step): gto show failed: \(shown.stderr)", file: file, line: line)
        var theirs: [String: String] = [:]
        for (name, value) in try jsonObject(shown.stdout) {
            let model = value as? [String: Any] ?? [:]
            var stages: [String: String] = [:]
            for (stage, holder) in (model["stage"] as? [String: Any]) ?? [:] {
                if let holder = holder as? String { stages[stage] = holder }
            }
            let latest = model["version"] as? String ?? "none"
            theirs[name] = "latest=\(latest) " + stages.keys.sorted().map { "\($0)=\(stages[$0]!)" }.joined(separator: " ")
        }
        XCTAssertEqual(mine, theirs, "after \(step): mv list disagrees with gto show", file: file, line: line)
    }

    func maxCounter(_ model: String) throws -> Int {
        try git("tag", "-l", "\(model)#*").split(separator: "\n").compactMap { tag in
            tag.split(separator: "#").last.flatMap { Int($0) }
        }.max() ?? 0
    }

    func testStageHoldersAgreeWithGTOAfterEveryStep() throws {
        guard try gtoAvailable() else { return }
        try initRepository()
        try train("a")
        try assertAgreesWithGTO("train a v1")
        try train("b")
        try assertAgreesWithGTO("train b v1")
        try train("a", seed: 3)
        try assertAgreesWithGTO("train a v2")
        try ok("promote", "a@v1")
        try assertAgreesWithGTO("promote a v1 production")
        try ok("promote", "a@v1", "--stage", "staging")
        try assertAgreesWithGTO("promote a v1 staging")
        try ok("promote", "b@v1")
        try assertAgreesWithGTO("promote b v1 production")
        try train("a", seed: 4)
        try assertAgreesWithGTO("train a v3")
        try ok("promote", "a@v2")
        try assertAgreesWithGTO("promote a v2 production")
        try ok("promote", "a@v3")
        try assertAgreesWithGTO("promote a v3 production")
        try ok("demote", "a@v3")
        try assertAgreesWithGTO("demote a v3 production")
        try ok("promote", "a@v3", "--stage", "staging")
        try assertAgreesWithGTO("promote a v3 staging")
        try ok("deprecate", "a@v1", "-m", "leaks")
        try assertAgreesWithGTO("deprecate a v1")
        try ok("rollback", "a", "--to", "v3")
        try assertAgreesWithGTO("rollback a production to v3")
        try ok("rollback", "a")
        try assertAgreesWithGTO("rollback a production to previous holder")

        Thread.sleep(forTimeInterval: 1.1)
        let assign = try Self.run(["gto", "assign", "a", "--version", "v2.0.0", "--stage", "staging"], in: root)
        XCTAssertEqual(assign.status, 0, assign.stdout + assign.stderr)
        try assertAgreesWithGTO("gto assign a v2 staging")
        let stagingHolder = (try json(try ok("list", "--json").stdout) as? [[String: Any]])?.first { $0["name"] as? String == "a" }?[
            "stages"]
        XCTAssertEqual((stagingHolder as? [String: String])?["staging"], "v2.0.0")

        let next = try maxCounter("a") + 1
        Thread.sleep(forTimeInterval: 1.1)
        try git("tag", "-a", "a#production#\(next)", "-m", "by hand", try git("rev-parse", "a@v3.0.0^{commit}"))
        try assertAgreesWithGTO("git tag -a a#production#\(next)")

        try train("a", seed: 5)
        try assertAgreesWithGTO("train a v4")
        let after = try ok("promote", "a@v4", "--stage", "staging")
        XCTAssertTrue(after.stdout.contains("a#staging#\(next + 1)"), "mv counts past the hand-made tag: \(after.stdout)")
        try assertAgreesWithGTO("promote a v4 staging")
        try ok("demote", "a", "--stage", "staging")
        try assertAgreesWithGTO("demote a staging")
        try ok("deprecate", "b@v1")
        try assertAgreesWithGTO("deprecate b v1")
        try ok("deprecate", "a@v4")
        try assertAgreesWithGTO("deprecate a v4 (latest)")
    }

    // MARK: 4. mv rollback

    func testRollbackToPreviousProductionHolderIsForwardOnly() throws {
        try initRepository()
        try train("m")
        try train("m", seed: 7)
        try ok("eval", "m@v2", "--data", "test.csv")
        try ok("promote", "m@v1")
        try ok("promote", "m@v2")
        let tagsBefore = try tagRefs()
        let oldHead = try git("rev-parse", "HEAD")
        XCTAssertNotEqual(try git("rev-parse", "HEAD:models/m"), try git("rev-parse", "m@v1.0.0:models/m"))

        let rolled = try ok("rollback", "m", "-m", "latency regression")
        XCTAssertTrue(rolled.stdout.contains("Rolled back m production to v1.0.0 (from v2.0.0)"), rolled.stdout)
        let newHead = try git("rev-parse", "HEAD")
        XCTAssertNotEqual(newHead, oldHead)
        XCTAssertEqual(try Self.run(["git", "merge-base", "--is-ancestor", oldHead, newHead], in: root).status, 0, "history rewritten")
        XCTAssertEqual(try git("rev-list", "--count", "\(oldHead)..\(newHead)"), "1")
        XCTAssertEqual(try git("rev-parse", "HEAD:models/m"), try git("rev-parse", "m@v1.0.0:models/m"))
        try assertFolder(root.appendingPathComponent("models/m"), equals: "m@v1.0.0", model: "m")
        XCTAssertEqual(try git("status", "--porcelain", "--", "models", ".mv"), "")
        XCTAssertTrue(try git("log", "-1", "--format=%B").contains("latency regression"))

        // Tags: only additions, nothing moved or deleted.
        let tagsAfter = try tagRefs()
        for (ref, object) in tagsBefore {
            XCTAssertEqual(tagsAfter[ref], object, "\(ref) was moved or deleted")
        }
        XCTAssertEqual(Set(tagsAfter.keys).subtracting(tagsBefore.keys), ["refs/tags/m#production#3"])
        XCTAssertEqual(try git("rev-parse", "m#production#3^{commit}"), try git("rev-parse", "m@v1.0.0^{commit}"))
        let list = try json(try ok("list", "--json").stdout) as? [[String: Any]]
        XCTAssertEqual(list?.first?["stages"] as? [String: String], ["production": "v1.0.0"])
        try git("fsck", "--strict")
    }

    func testRollbackToNamedVersionOnStaging() throws {
        try initRepository()
        try train("m")
        try train("m", seed: 7)
        try train("m", seed: 8)
        try ok("promote", "m@v3", "--stage", "staging")
        try ok("promote", "m@v2")
        let tagsBefore = try tagRefs()
        let oldHead = try git("rev-parse", "HEAD")

        let rolled = try ok("rollback", "m", "--to", "v1", "--stage", "staging")
        XCTAssertTrue(rolled.stdout.contains("Rolled back m staging to v1.0.0 (from v3.0.0)"), rolled.stdout)
        XCTAssertEqual(try git("rev-parse", "HEAD:models/m"), try git("rev-parse", "m@v1.0.0:models/m"))
        try assertFolder(root.appendingPathComponent("models/m"), equals: "m@v1.0.0", model: "m")
        XCTAssertEqual(try git("status", "--porcelain", "--", "models", ".mv"), "")
        XCTAssertEqual(try Self.run(["git", "merge-base", "--is-ancestor", oldHead, "HEAD"], in: root).status, 0)
        let tagsAfter = try tagRefs()
        for (ref, object) in tagsBefore {
            XCTAssertEqual(tagsAfter[ref], object, "\(ref) was moved or deleted")
        }
        XCTAssertEqual(Set(tagsAfter.keys).subtracting(tagsBefore.keys), ["refs/tags/m#staging#3"])
        XCTAssertEqual(try git("rev-parse", "m#staging#3^{commit}"), try git("rev-parse", "m@v1.0.0^{commit}"))
        let list = try json(try ok("list", "--json").stdout) as? [[String: Any]]
        XCTAssertEqual(list?.first?["stages"] as? [String: String], ["production": "v2.0.0", "staging": "v1.0.0"])
    }

    // MARK: 5. mv diff

    func testDiffTextJSONMarkdownAndReferenceForms() throws {
        try initRepository()
        try train("m")
        try train("m", seed: 7)

        let text = try ok("diff", "v1", "v2").stdout
        XCTAssertTrue(text.hasPrefix("mv diff m@v1.0.0 → m@v2.0.0\n"), text)
        for section in ["\nhyperparameters", "\nmetrics", "\ntensors\n", "\nlineage"] {
            XCTAssertTrue(text.contains(section), "missing \(section): \(text)")
        }
        let tensorLines = text.split(separator: "\n").filter { $0.hasPrefix("  coef ") || $0.hasPrefix("  intercept ") }
        XCTAssertEqual(tensorLines.count, 2, text)
        XCTAssertTrue(tensorLines.allSatisfy { $0.contains(" changed ") }, text)
        XCTAssertTrue(text.contains("seed: 42 → 7"), text)
        XCTAssertFalse(text.contains("\u{1B}["), "no color when stdout is not a terminal")

        let diff = try jsonObject(try ok("diff", "v1", "v2", "--json").stdout)
        XCTAssertEqual(diff["old"] as? String, "m@v1.0.0")
        XCTAssertEqual(diff["new"] as? String, "m@v2.0.0")
        let metrics = try XCTUnwrap(diff["metrics"] as? [[String: Any]])
        XCTAssertEqual(Set(metrics.compactMap { $0["metric"] as? String }), ["mse", "rmse", "mae", "r2"])
        let v1Holdout = try XCTUnwrap(
            (try jsonObject(try ok("show", "m@v1", "--json").stdout)["evaluations"] as? [String: Any])?["holdout"] as? [String: Double])
        let v2Holdout = try XCTUnwrap(
            (try jsonObject(try ok("show", "m@v2", "--json").stdout)["evaluations"] as? [String: Any])?["holdout"] as? [String: Double])
        for metric in metrics {
            let name = try XCTUnwrap(metric["metric"] as? String)
            XCTAssertEqual(metric["evaluation"] as? String, "holdout")
            let old = try XCTUnwrap(metric["old"] as? Double)
            let new = try XCTUnwrap(metric["new"] as? Double)
            XCTAssertEqual(old, v1Holdout[name])
            XCTAssertEqual(new, v2Holdout[name])
            XCTAssertEqual(try XCTUnwrap(metric["delta"] as? Double), new - old, accuracy: 1e-12)
        }
        let tensors = try XCTUnwrap(diff["tensors"] as? [[String: Any]])
        XCTAssertEqual(tensors.compactMap { $0["name"] as? String }, ["coef", "intercept"])
        let expected = try jsonObject(
            try python(
                """
                import io, json, subprocess, numpy
                out = {}
                for name in ['coef', 'intercept']:
                    a = numpy.load(io.BytesIO(subprocess.check_output(['git', 'show', 'm@v1.0.0:models/m/params/%s.npy' % name])))
                    b = numpy.load(io.BytesIO(subprocess.check_output(['git', 'show', 'm@v2.0.0:models/m/params/%s.npy' % name])))
                    out[name] = {'max': float(numpy.max(numpy.abs(b - a))), 'rel': float(numpy.linalg.norm(b - a) / numpy.linalg.norm(a)),
                                 'cos': float(numpy.dot(a, b) / (numpy.linalg.norm(a) * numpy.linalg.norm(b)))}
                print(json.dumps(out))
                """))
        for tensor in tensors {
            let name = try XCTUnwrap(tensor["name"] as? String)
            let want = try XCTUnwrap(expected[name] as? [String: Double])
            XCTAssertEqual(tensor["status"] as? String, "changed")
            XCTAssertEqual(try XCTUnwrap(tensor["max_abs_change"] as? Double), want["max"]!, accuracy: 1e-12)
            XCTAssertEqual(try XCTUnwrap(tensor["relative_l2_change"] as? Double), want["rel"]!, accuracy: 1e-12)
            XCTAssertEqual(try XCTUnwrap(tensor["cosine_similarity"] as? Double), want["cos"]!, accuracy: 1e-12)
            XCTAssertGreaterThan(try XCTUnwrap(tensor["max_abs_change"] as? Double), 0)
        }

        // A version against itself (two spellings): nothing changed.
        let same = try jsonObject(try ok("diff", "m@v2.0.0", "m@latest", "--json").stdout)
        XCTAssertEqual(same["old"] as? String, "m@v2.0.0")
        XCTAssertEqual(same["new"] as? String, "m@v2.0.0")
        let sameTensors = try XCTUnwrap(same["tensors"] as? [[String: Any]])
        XCTAssertEqual(sameTensors.count, 2)
        XCTAssertTrue(
            sameTensors.allSatisfy { $0["status"] as? String == "unchanged" && $0["max_abs_change"] as? Double == 0 }, "\(sameTensors)")
        XCTAssertTrue(((same["metrics"] as? [[String: Any]]) ?? []).allSatisfy { $0["delta"] as? Double == 0 })

        let markdown = try ok("diff", "m@v1.0.0", "m@v2.0.0", "--markdown").stdout
        let markdownLines = markdown.split(separator: "\n").map(String.init)
        XCTAssertTrue(markdownLines.contains("| evaluation | metric | m@v1.0.0 | m@v2.0.0 | Δ | Δ% | |"), markdown)
        XCTAssertTrue(markdownLines.contains("| tensor | change | max \\|Δ\\| | rel. L2 | cosine |"), markdown)
        XCTAssertTrue(markdownLines.contains { $0.hasPrefix("| `coef` | changed |") }, markdown)

        // Raw Git revisions: HEAD~1 is v1's commit, HEAD v2's; a commit id works too.
        let raw = try jsonObject(try ok("diff", "HEAD~1", "HEAD", "--json").stdout)
        XCTAssertEqual(raw["old"] as? String, "m@v1.0.0")
        XCTAssertEqual(raw["new"] as? String, "m@v2.0.0")
        let commit = try git("rev-parse", "m@v1.0.0^{commit}")
        let byCommit = try jsonObject(try ok("diff", commit, "m@latest", "--json").stdout)
        XCTAssertEqual(byCommit["old"] as? String, "m@v1.0.0")
        XCTAssertEqual(byCommit["new"] as? String, "m@v2.0.0")

        // A stage spelling resolves to its holder.
        try ok("promote", "m@v1")
        let staged = try jsonObject(try ok("diff", "m#production", "m@v2.0.0", "--json").stdout)
        XCTAssertEqual(staged["old"] as? String, "m@v1.0.0")
        XCTAssertEqual(staged["new"] as? String, "m@v2.0.0")
        XCTAssertTrue(try ok("diff", "m#production", "m@latest").stdout.hasPrefix("mv diff m@v1.0.0 → m@v2.0.0"))
    }

    // MARK: 6. Textconv

    func testTextconvRendersTensorsAndAFreshCloneNeedsInit() throws {
        try initRepository()
        XCTAssertTrue(
            try String(contentsOf: root.appendingPathComponent(".gitattributes"), encoding: .utf8)
                .split(separator: "\n").contains("*.npy diff=mv-npy"))
        XCTAssertEqual(try git("show", "HEAD:.gitattributes").split(separator: "\n").filter { $0 == "*.npy diff=mv-npy" }.count, 1)
        let driver = try git("config", "diff.mv-npy.textconv")
        XCTAssertTrue(driver.hasSuffix(" textconv"), driver)
        try train("m")
        try train("m", seed: 7)
        XCTAssertEqual(try git("check-attr", "diff", "--", "models/m/params/coef.npy"), "models/m/params/coef.npy: diff: mv-npy")

        let values = try python(
            """
            import io, subprocess, numpy
            for rev in ['m@v1.0.0', 'm@v2.0.0']:
                print('%.9g' % numpy.load(io.BytesIO(subprocess.check_output(['git', 'show', rev + ':models/m/params/coef.npy'])))[0])
            """
        ).split(separator: "\n").map(String.init)
        XCTAssertEqual(values.count, 2)
        XCTAssertNotEqual(values[0], values[1])

        let diff = try git("diff", "m@v1.0.0", "m@v2.0.0", "--", "models/m/params/coef.npy")
        XCTAssertTrue(diff.contains("npy float64 shape (1)"), diff)
        XCTAssertTrue(diff.contains("\n-  \(values[0])\n"), diff)
        XCTAssertTrue(diff.contains("\n+  \(values[1])"), diff)
        XCTAssertFalse(diff.contains("Binary files"), diff)

        let log = try git("log", "-p", "-1", "--", "models/m/params")
        XCTAssertTrue(log.contains("npy float64 shape (1)"), log)
        XCTAssertTrue(log.contains("+  \(values[1])"), log)
        XCTAssertFalse(log.contains("Binary files"), log)

        let show = try git("show", "m@v2.0.0", "--", "models/m/params/coef.npy")
        XCTAssertTrue(show.contains("npy float64 shape (1)"), show)
        XCTAssertTrue(show.contains("+  \(values[1])"), show)
        XCTAssertFalse(show.contains("Binary files"), show)

        // A fresh clone has the attribute but not the driver, until mv init runs there.
        let clone = FileManager.default.temporaryDirectory.appendingPathComponent("mv-clone-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: clone) }
        try git("clone", "-q", root.path, clone.path)
        XCTAssertEqual(try Self.run(["git", "config", "diff.mv-npy.textconv"], in: clone).status, 1, "a clone has no driver configured")
        let raw = try git("diff", "m@v1.0.0", "m@v2.0.0", "--", "models/m/params/coef.npy", in: clone)
        XCTAssertTrue(raw.contains("Binary files"), raw)
        XCTAssertFalse(raw.contains("npy float64"), raw)

        let before = try snapshot(clone)
        let commits = try git("rev-list", "--count", "--all", in: clone)
        let initialized = try ok("init", in: clone)
        XCTAssertTrue(initialized.stdout.contains("Already initialized"), initialized.stdout)
        XCTAssertEqual(try git("rev-list", "--count", "--all", in: clone), commits, "mv init in a clone commits nothing")
        XCTAssertEqual(try snapshot(clone), before)
        XCTAssertTrue(try git("config", "diff.mv-npy.textconv", in: clone).hasSuffix(" textconv"))
        let rendered = try git("diff", "m@v1.0.0", "m@v2.0.0", "--", "models/m/params/coef.npy", in: clone)
        XCTAssertTrue(rendered.contains("npy float64 shape (1)"), rendered)
        XCTAssertTrue(rendered.contains("+  \(values[1])"), rendered)
        XCTAssertFalse(rendered.contains("Binary files"), rendered)
    }

    // MARK: 7. mv history

    func testHistoryListsEveryEventNewestFirst() throws {
        try initRepository()
        try train("m")
        try train("m", seed: 7)
        try train("m", seed: 8)
        try ok("eval", "m@v1", "--data", "test.csv")
        // Keep the evaluation out of the next stage event's second (see the ordering test below).
        Thread.sleep(forTimeInterval: 1.1)
        try ok("promote", "m@v1", "-m", "go live")
        try ok("promote", "m@v2", "--stage", "staging")
        try ok("promote", "m@v2")
        try ok("demote", "m@v2", "-m", "errors up")
        try ok("deprecate", "m@v3", "-m", "bad data")
        try ok("rollback", "m", "--to", "v2")

        let entries = try XCTUnwrap(try json(try ok("history", "m", "--json").stdout) as? [[String: Any]])
        func field(_ entry: [String: Any], _ key: String) -> String { entry[key] as? String ?? "-" }
        let rows = entries.map { "\(field($0, "event")) \(field($0, "tag")) \(field($0, "version")) \(field($0, "stage"))" }
        XCTAssertEqual(
            rows,
            [
                "rollback m#production#5 v2.0.0 production",
                "deregistration m@v3.0.0! v3.0.0 -",
                "unassignment m#production!#4 v2.0.0 production",
                "assignment m#production#3 v2.0.0 production",
                "assignment m#staging#2 v2.0.0 staging",
                "assignment m#production#1 v1.0.0 production",
                "evaluation eval/m/v1.0.0/1 v1.0.0 -",
                "registration m@v3.0.0 v3.0.0 -",
                "registration m@v2.0.0 v2.0.0 -",
                "registration m@v1.0.0 v1.0.0 -",
            ])
        let times = entries.compactMap { $0["time"] as? String }
        XCTAssertEqual(times.count, entries.count)
        XCTAssertEqual(times, times.sorted(by: >), "newest first")
        XCTAssertTrue(field(entries[0], "detail").contains("from v1.0.0"), "\(entries[0])")
        XCTAssertEqual(field(entries[1], "detail"), "bad data")
        XCTAssertEqual(field(entries[2], "detail"), "errors up")
        XCTAssertEqual(field(entries[5], "detail"), "go live")
        XCTAssertEqual(field(entries[6], "detail"), "test")
        for entry in entries {
            let tag = field(entry, "tag")
            XCTAssertEqual(field(entry, "commit"), try git("rev-parse", "\(tag)^{commit}"), tag)
        }

        let text = try ok("history", "m").stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(text.count, 11, text.joined(separator: "\n"))
        XCTAssertTrue(text[0].hasPrefix("DATE"), text[0])
        XCTAssertTrue(text[1].contains("rollback") && text[1].contains("m#production#5"), text[1])
        XCTAssertTrue(text[10].contains("registration") && text[10].contains("m@v1.0.0"), text[10])
    }

    // Tag times have whole seconds: mv never lets two of a model's events share one, so the
    // journal order is the order they happened.
    func testHistoryOrdersAnEvaluationBeforeALaterPromotionInTheSameSecond() throws {
        try initRepository()
        try train("m")
        var tie = false
        for attempt in 1...4 where !tie {
            Thread.sleep(forTimeInterval: 1.1)
            try ok("eval", "m@v1", "--data", "test.csv", "--name", "run\(attempt)")
            if attempt % 2 == 1 {
                try ok("promote", "m@v1", "--stage", "staging")
            } else {
                try ok("demote", "m@v1", "--stage", "staging")
            }
            let counter = try maxCounter("m")
            let stageTag = try XCTUnwrap(
                try git("tag", "-l", "m#*").split(separator: "\n").map(String.init)
                    .first { $0.hasSuffix("#\(counter)") })
            let evalTag = "eval/m/v1.0.0/\(attempt)"
            tie = try taggerSecond(evalTag) == taggerSecond(stageTag)
            let tags = (try json(try ok("history", "m", "--json").stdout) as? [[String: Any]] ?? []).compactMap { $0["tag"] as? String }
            let stageIndex = try XCTUnwrap(tags.firstIndex(of: stageTag))
            let evalIndex = try XCTUnwrap(tags.firstIndex(of: evalTag))
            XCTAssertLessThan(
                stageIndex, evalIndex,
                "\(stageTag) was created after \(evalTag) but is listed as older (same second: \(tie)): \(tags)")
        }
    }

    // MARK: 8. checkout and export

    func testCheckoutRestoresRefusesDirtyFolderAndWritesElsewhere() throws {
        try initRepository()
        try train("m")
        try train("m", seed: 7)
        let modelFolder = root.appendingPathComponent("models/m")

        // A dirty model folder is refused, and nothing changes.
        let readme = modelFolder.appendingPathComponent("README.md")
        let handle = try FileHandle(forWritingTo: readme)
        handle.seekToEndOfFile()
        handle.write(Data("my notes\n".utf8))
        try handle.close()
        let before = try snapshot()
        let refused = try mv("checkout", "m@v1")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.hasPrefix("mv: error: "), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("uncommitted changes"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("README.md"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--force"), refused.stderr)
        XCTAssertEqual(refused.stdout, "")
        XCTAssertEqual(try snapshot(), before)

        // --force replaces the change with the version's files.
        let checkedOut = try ok("checkout", "m@v1", "--force")
        XCTAssertTrue(checkedOut.stdout.contains("Checked out m@v1.0.0"), checkedOut.stdout)
        try assertFolder(modelFolder, equals: "m@v1.0.0", model: "m")
        XCTAssertEqual(try git("rev-parse", "HEAD"), try git("rev-parse", "m@v2.0.0^{commit}"), "checkout does not commit")
        XCTAssertEqual(
            try git("diff", "--cached", "--name-only", "HEAD", "--", "models/m").split(separator: "\n").sorted(),
            try git("diff", "--name-only", "m@v2.0.0", "m@v1.0.0", "--", "models/m").split(separator: "\n").sorted(),
            "the index holds v1's folder")

        try ok("checkout", "m@v2", "--force")
        try assertFolder(modelFolder, equals: "m@v2.0.0", model: "m")
        XCTAssertEqual(try git("status", "--porcelain", "--", "models"), "", "HEAD holds v2, so the folder is clean again")

        // From a clean folder no --force is needed.
        try ok("checkout", "m@v1")
        try assertFolder(modelFolder, equals: "m@v1.0.0", model: "m")
        try ok("checkout", "m@v2", "--force")

        // --to writes the folder elsewhere and leaves the repository alone.
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("mv-out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: outside) }
        let repositoryBefore = try snapshot()
        try ok("checkout", "m@v1", "--to", outside.path)
        try assertFolder(outside, equals: "m@v1.0.0", model: "m")
        XCTAssertEqual(try snapshot(), repositoryBefore)
        let notEmpty = try mv("checkout", "m@v2", "--to", outside.path)
        XCTAssertNotEqual(notEmpty.status, 0)
        XCTAssertTrue(notEmpty.stderr.contains("is not empty"), notEmpty.stderr)
        try assertFolder(outside, equals: "m@v1.0.0", model: "m")
    }

    func testExportNpyAndSafetensorsFromGit() throws {
        try initRepository()
        try train("m")
        try train("m", seed: 7)
        // The work tree holds v1; the export of v2 must come from Git.
        try ok("checkout", "m@v1")
        let exported = try ok("export", "m@v2", "--format", "npy", "-o", "exported")
        XCTAssertTrue(exported.stdout.contains("Exported 2 tensors of m@v2.0.0"), exported.stdout)
        XCTAssertEqual(files(in: root.appendingPathComponent("exported")), ["coef.npy", "intercept.npy"])
        try ok("export", "m@v2", "--format", "safetensors", "-o", "m.safetensors")
        let check = """
            import hashlib, io, subprocess, numpy, yaml
            from safetensors.numpy import load_file
            manifest = yaml.safe_load(subprocess.check_output(['git', 'show', 'm@v2.0.0:models/m/model.yaml']))
            assert manifest['version'] == 'v2.0.0', manifest['version']
            st = load_file('m.safetensors')
            assert sorted(st) == ['coef', 'intercept'], sorted(st)
            for p in manifest['params']:
                raw = open('exported/%s.npy' % p['name'], 'rb').read()
                assert hashlib.sha256(raw).hexdigest() == p['sha256'], p['name']
                a = numpy.load(io.BytesIO(raw))
                assert str(a.dtype) == p['dtype'] and list(a.shape) == p['shape'], (a.dtype, a.shape, p)
                assert abs(float(a.mean()) - p['mean']) < 1e-12 and abs(float(a.min()) - p['min']) < 1e-12, (a, p)
                git = numpy.load(io.BytesIO(subprocess.check_output(['git', 'show', 'm@v2.0.0:models/m/' + p['file']])))
                assert numpy.array_equal(a, git), (a, git)
                work = numpy.load('models/m/' + p['file'])
                assert not numpy.array_equal(a, work), 'the export equals the work tree (v1), not v2'
                s = st[p['name']]
                assert s.dtype == a.dtype and s.shape == a.shape and numpy.array_equal(s, a), (s, a)
            print('ok')
            """
        XCTAssertEqual(try python(check), "ok\n")
    }
}
