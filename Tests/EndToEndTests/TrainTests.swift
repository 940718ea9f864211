import Foundation
import TestSupport
import XCTest

/// `mv init` and `mv train` from the command line, judged by the git CLI.
final class TrainTests: GitTestCase {
    func initRepository() throws {
        let result = try mv("init")
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    func testInitCreatesRepositoryAndIsIdempotent() throws {
        let folder = root.appendingPathComponent("fresh")
        let first = try mv("init", folder.path)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("Created a Git repository"), first.stdout)
        XCTAssertEqual(try git("ls-files", in: folder).split(separator: "\n"), [".gitattributes", ".mv.yaml"])
        XCTAssertEqual(try git("log", "--format=%s", in: folder), "mv: track models in this repository")
        let before = try snapshot(folder)
        let second = try mv("init", folder.path)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("Already initialized"), second.stdout)
        XCTAssertEqual(try snapshot(folder), before)
        try git("fsck", "--strict", in: folder)
    }

    func testInitInExistingRepositoryKeepsStagedWork() throws {
        try git("init", "-q", "-b", "main")
        _ = try write("hello\n", to: "a.txt")
        try git("add", "a.txt")
        try git("commit", "-q", "-m", "first")
        _ = try write("staged\n", to: "a.txt")
        try git("add", "a.txt")
        let result = try mv("init")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try git("show", "--name-only", "--format=", "HEAD").split(separator: "\n"), [".gitattributes", ".mv.yaml"])
        XCTAssertEqual(try git("diff", "--cached", "--name-only"), "a.txt")
        XCTAssertEqual(try git("show", ":a.txt"), "staged")
    }

    func testTrainCommitsTagsAndWritesALoadableModel() throws {
        try initRepository()
        _ = try write(Self.linearCSV(rows: 200), to: "data/train.csv")
        let result = try mv("train", "churn", "--data", "data/train.csv", "--target", "y")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("churn v1.0.0"), result.stdout)

        XCTAssertEqual(try git("cat-file", "-t", "churn@v1.0.0"), "tag")
        XCTAssertEqual(try git("rev-parse", "churn@v1.0.0^{commit}"), try git("rev-parse", "HEAD"))
        XCTAssertEqual(try git("tag", "--points-at", "HEAD"), "churn@v1.0.0")
        XCTAssertEqual(
            try git("ls-tree", "-r", "--name-only", "HEAD", "models/churn").split(separator: "\n"),
            [
                "models/churn/README.md", "models/churn/eval/holdout.yaml", "models/churn/model.yaml",
                "models/churn/params/coef.npy", "models/churn/params/intercept.npy", "models/churn/reference.yaml",
            ])
        // Exactly the model folder changed.
        XCTAssertEqual(
            try git("diff", "--name-only", "HEAD~1", "HEAD").split(separator: "\n").allSatisfy { $0.hasPrefix("models/churn/") }, true)
        let trailers = try git("log", "-1", "--format=%(trailers:key=Model,key=Model-Version,valueonly)")
        XCTAssertEqual(trailers.split(separator: "\n"), ["churn", "v1.0.0"])
        XCTAssertTrue(try git("log", "-1", "--format=%s").hasPrefix("churn v1.0.0: rmse "))
        XCTAssertTrue(try git("log", "-1", "--format=%(trailers:key=Metric-rmse,valueonly)").count > 0)
        // Work tree and index match the commit; untracked data stays untracked.
        XCTAssertEqual(try git("status", "--porcelain"), "?? data/")
        try git("fsck", "--strict")

        // The fitted slope and intercept are near 3 and 2 and load in numpy as written.
        let python = """
            import numpy, yaml, sys
            coef = numpy.load('models/churn/params/coef.npy'); b = numpy.load('models/churn/params/intercept.npy')
            m = yaml.safe_load(open('models/churn/model.yaml'))
            rec = {p['name']: p for p in m['params']}
            assert coef.dtype == numpy.float64 and coef.shape == (1,), coef
            assert abs(coef[0] - 3) < 0.05 and abs(b[0] - 2) < 0.3, (coef, b)
            assert rec['coef']['shape'] == [1] and rec['coef']['dtype'] == 'float64'
            assert abs(rec['coef']['mean'] - coef[0]) < 1e-12
            import hashlib
            assert hashlib.sha256(open('models/churn/params/coef.npy','rb').read()).hexdigest() == rec['coef']['sha256']
            ev = yaml.safe_load(open('models/churn/eval/holdout.yaml'))
            assert set(ev['metrics']) == {'mse', 'rmse', 'mae', 'r2'}, ev
            assert all(isinstance(v, float) for v in ev['metrics'].values()), ev
            assert ev['metrics']['r2'] > 0.99
            print('ok')
            """
        let check = try Self.run(["python3", "-c", python], in: root)
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertEqual(check.stdout, "ok\n")
    }

    func testVersionsNumberUpAndShorthandWorks() throws {
        try initRepository()
        _ = try write(Self.linearCSV(rows: 100), to: "train.csv")
        XCTAssertEqual(try mv("train", "m", "--data", "train.csv", "--target", "y").status, 0)
        XCTAssertEqual(try mv("train", "m", "--data", "train.csv", "--target", "y", "--seed", "7").status, 0)
        let explicit = try mv("train", "m", "--data", "train.csv", "--target", "y", "--version", "v2.1")
        XCTAssertEqual(explicit.status, 0, explicit.stderr)
        let next = try mv("train", "m", "--data", "train.csv", "--target", "y")
        XCTAssertEqual(next.status, 0, next.stderr)
        XCTAssertEqual(try git("tag", "--list").split(separator: "\n"), ["m@v1.0.0", "m@v2.0.0", "m@v2.1.0", "m@v3.0.0"])

        let duplicate = try mv("train", "m", "--data", "train.csv", "--target", "y", "--version", "v2")
        XCTAssertNotEqual(duplicate.status, 0)
        XCTAssertTrue(duplicate.stderr.contains("version v2.0.0 of 'm' already exists"), duplicate.stderr)

        let show = try mv("show", "m@v2")
        XCTAssertEqual(show.status, 0, show.stderr)
        XCTAssertTrue(show.stdout.contains("m v2.0.0"), show.stdout)
        XCTAssertTrue(show.stdout.contains("seed 7"), show.stdout)

        let log = try mv("log", "m", "--json")
        XCTAssertEqual(log.status, 0, log.stderr)
        let entries = try JSONSerialization.jsonObject(with: Data(log.stdout.utf8)) as? [[String: Any]]
        XCTAssertEqual(entries?.compactMap { $0["version"] as? String }, ["v3.0.0", "v2.1.0", "v2.0.0", "v1.0.0"])
        XCTAssertEqual(entries?.first?["commit"] as? String, try git("rev-parse", "HEAD"))
        XCTAssertNotNil((entries?.first?["metrics"] as? [String: Double])?["rmse"])

        let list = try mv("list", "--json")
        let models = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
        XCTAssertEqual(models?.count, 1)
        XCTAssertEqual((models?.first?["latest"] as? [String: Any])?["version"] as? String, "v3.0.0")
        XCTAssertEqual(models?.first?["versions"] as? Int, 4)
    }

    func testUsersStagedAndUnstagedChangesSurviveTraining() throws {
        try initRepository()
        _ = try write("v1\n", to: "notes.txt")
        _ = try write("v1\n", to: "code.py")
        try git("add", "notes.txt", "code.py")
        try git("commit", "-q", "-m", "user files")
        _ = try write("staged\n", to: "notes.txt")
        try git("add", "notes.txt")
        _ = try write("unstaged\n", to: "code.py")
        _ = try write(Self.linearCSV(rows: 50), to: "train.csv")

        let result = try mv("train", "m", "--data", "train.csv", "--target", "y")
        XCTAssertEqual(result.status, 0, result.stderr)
        let status = try Self.run(["git", "status", "--porcelain"], in: root).stdout
        XCTAssertEqual(Set(status.split(separator: "\n")), ["M  notes.txt", " M code.py", "?? train.csv"])
        XCTAssertEqual(try git("show", ":notes.txt"), "staged")
        XCTAssertEqual(try git("show", "HEAD:notes.txt"), "v1", "the user's staged change was not committed")
        XCTAssertEqual(try String(contentsOf: root.appendingPathComponent("code.py"), encoding: .utf8), "unstaged\n")
        // Lineage records the dirty work tree.
        XCTAssertTrue(try git("show", "HEAD:models/m/model.yaml").contains("dirty: true"))
    }

    func testDirtyModelFolderIsRefusedUnlessForced() throws {
        try initRepository()
        _ = try write(Self.linearCSV(rows: 50), to: "train.csv")
        XCTAssertEqual(try mv("train", "m", "--data", "train.csv", "--target", "y").status, 0)
        _ = try write("my notes\n", to: "models/m/NOTES.md")
        let before = try snapshot()
        let refused = try mv("train", "m", "--data", "train.csv", "--target", "y")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.hasPrefix("mv: error: 'models/m' has uncommitted changes ('models/m/NOTES.md')"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--force"), refused.stderr)
        XCTAssertEqual(try snapshot(), before)

        let forced = try mv("train", "m", "--data", "train.csv", "--target", "y", "--force")
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertEqual(try git("tag", "--list").split(separator: "\n"), ["m@v1.0.0", "m@v2.0.0"])
        try git("fsck", "--strict")
    }

    func testConcurrentTrainingLandsEveryVersion() throws {
        try initRepository()
        _ = try write(Self.linearCSV(rows: 40), to: "train.csv")
        let binary = Self.mvBinary.path
        let script = """
            set -e
            for p in 1 2 3 4; do
              ( for i in 1 2 3 4 5 6 7 8 9 10; do "\(binary)" train m --data train.csv --target y --seed $p$i >/dev/null || echo "FAILED $p $i" >&2; done ) &
            done
            wait
            """
        let result = try Self.run(["bash", "-c", script], in: root)
        XCTAssertEqual(result.stderr, "", "every mv train succeeded")
        let tags = try git("tag", "--list").split(separator: "\n")
        XCTAssertEqual(tags.count, 40)
        XCTAssertEqual(Set(tags).count, 40)
        XCTAssertEqual(Set(tags), Set((1...40).map { "m@v\($0).0.0" }))
        // Every version's commit is on the branch (none lost to a race).
        for tag in tags {
            XCTAssertEqual(try Self.run(["git", "merge-base", "--is-ancestor", "\(tag)^{commit}", "HEAD"], in: root).status, 0, "\(tag)")
        }
        XCTAssertEqual(try git("rev-list", "--count", "HEAD"), "41")
        XCTAssertEqual(try git("status", "--porcelain"), "?? train.csv")
        try git("fsck", "--strict")
        // The work tree holds the newest version.
        XCTAssertTrue(
            try String(contentsOf: root.appendingPathComponent("models/m/model.yaml"), encoding: .utf8).contains("version: v40.0.0"))
    }

    func testGTOReadsMVVersions() throws {
        guard (try? Self.run(["gto", "--help"], in: root))?.status == 0 else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("gto is not installed; make test installs it") }
            throw XCTSkip("gto is not installed (pip install gto)")
        }
        try initRepository()
        _ = try write(Self.linearCSV(rows: 60), to: "train.csv")
        XCTAssertEqual(try mv("train", "churn", "--data", "train.csv", "--target", "y").status, 0)
        XCTAssertEqual(try mv("train", "churn", "--data", "train.csv", "--target", "y", "--seed", "3").status, 0)
        XCTAssertEqual(try mv("train", "other", "--data", "train.csv", "--target", "y").status, 0)
        let shown = try Self.run(["gto", "show", "--json"], in: root)
        XCTAssertEqual(shown.status, 0, shown.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any]
        let churn = json?["churn"] as? [String: Any]
        let other = json?["other"] as? [String: Any]
        XCTAssertEqual(churn?["version"] as? String, "v2.0.0", shown.stdout)
        XCTAssertEqual(other?["version"] as? String, "v1.0.0", shown.stdout)
        let history = try Self.run(["gto", "history", "churn", "--json"], in: root)
        XCTAssertEqual(history.status, 0, history.stderr)
        XCTAssertTrue(history.stdout.contains("v1.0.0") && history.stdout.contains("v2.0.0"), history.stdout)
    }
}
