import Foundation
import TestSupport
import XCTest

/// One test per defect found by trying to break mv as a new user would: documents mv could
/// not read back, an overflowing version number, tensor names no file system takes, git's
/// repository layouts, messages that leaked internals, CSV surprises and model names that
/// shadow revisions. Each failed before its fix.
final class DefectRegressionTests: LifecycleTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try initRepository()
    }

    /// A 20-class logistic regression writes a 20×20 confusion matrix (a list of lists of
    /// more than 16 items), and a custom command a nested hyperparameter list: both read back.
    func testDocumentsWithLongNestedListsReadBack() throws {
        var csv = "x1,x2,label\n"
        for row in 0..<400 {
            let x1 = Double(row % 20) + Double(row % 7) * 0.05
            csv += "\(x1),\(Double(row % 13) * 0.1),c\(row % 20)\n"
        }
        _ = try write(csv, to: "classes.csv")
        try ok("train", "cls", "--algorithm", "logistic-regression", "--data", "classes.csv", "--target", "label")
        try ok("eval", "cls@v1", "--data", "classes.csv")
        let report = try git("show", "HEAD:models/cls/eval/classes.yaml")
        XCTAssertFalse(report.contains("-     -"), report)
        try ok("show", "cls@v1")
        try ok("verify", "cls@v1")
        try ok("train", "cls", "--algorithm", "logistic-regression", "--data", "classes.csv", "--target", "label", "--seed", "2")
        try ok("diff", "cls@v1", "cls@v2")

        _ = try write(
            """
            import os, struct
            out = os.environ['MV_OUTPUT_DIR']
            os.makedirs(os.path.join(out, 'params'))
            header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
            header += ' ' * (63 - (10 + len(header)) % 64) + '\\n'
            with open(os.path.join(out, 'params', 'w.npy'), 'wb') as f:
                f.write(b'\\x93NUMPY\\x01\\x00' + struct.pack('<H', len(header)) + header.encode() + bytes(8))
            open(os.path.join(out, 'hyperparameters.yaml'), 'w').write('layers: [[%s], [1, 2]]\\n' % ', '.join(map(str, range(17))))
            """, to: "train.py")
        try ok("train", "net", "--", "python3", "train.py")
        let shown = try ok("show", "net", "--json")
        let object = try jsonObject(shown.stdout)
        let hyperparameters = object["hyperparameters"] as? [String: Any]
        XCTAssertEqual((hyperparameters?["layers"] as? [[Int]])?.first, Array(0..<17), shown.stdout)
        try ok("verify", "net@v1")
    }

    /// A version number past what mv counts is refused with a message, not a crash, and
    /// the next number after the largest is refused too.
    func testVersionNumbersAreBounded() throws {
        try assertRefused(
            ["train", "ver", "--data", "train.csv", "--target", "y", "--version", "v9223372036854775807"],
            mentions: ["invalid version 'v9223372036854775807'", "up to 999999999"])
        try ok("train", "ver", "--data", "train.csv", "--target", "y", "--version", "v999999999")
        try assertRefused(
            ["train", "ver", "--data", "train.csv", "--target", "y"], mentions: ["no next version after v999999999.0.0", "--version"])
        try ok("train", "ver", "--data", "train.csv", "--target", "y", "--version", "v999999999.1")
    }

    /// A 400-character tensor name and a Windows device name become file names every common
    /// file system takes; a clone checks out, and export gives the original names back.
    func testTensorNamesThatCannotBeFileNamesAreMapped() throws {
        let long = String(repeating: "a", count: 400)
        let header = Data(
            #"{"\#(long)":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"CON":{"dtype":"F32","shape":[4],"data_offsets":[16,32]}}"#.utf8
        )
        var length = UInt64(header.count).littleEndian
        let file = Data(bytes: &length, count: 8) + header + Data((0..<32).map { UInt8($0) })
        try file.write(to: root.appendingPathComponent("w.safetensors"))
        try ok("add", "w", "--weights", "w.safetensors")
        for path in try git("ls-tree", "-r", "--name-only", "HEAD", "models/w").split(separator: "\n") {
            let name = path.split(separator: "/").last.map(String.init) ?? ""
            XCTAssertLessThanOrEqual(name.utf8.count, 255, name)
            XCTAssertNotEqual(name.split(separator: ".").first.map { $0.uppercased() }, "CON", name)
        }
        let clone = root.appendingPathComponent("clone")
        try git("clone", "-q", root.path, clone.path)
        XCTAssertEqual(try git("status", "--porcelain", in: clone), "")
        try ok("verify", "w@v1", in: clone)
        let exported = root.appendingPathComponent("out.safetensors")
        try ok("export", "w@v1", "--format", "safetensors", "-o", exported.path, in: clone)
        let names = try python(
            """
            import json, struct
            b = open('out.safetensors', 'rb').read(); n = struct.unpack('<Q', b[:8])[0]
            print(sorted(len(k) for k in json.loads(b[8:8 + n]) if k != '__metadata__'))
            """)
        XCTAssertEqual(names, "[3, 400]\n")
        XCTAssertEqual(try Data(contentsOf: exported).suffix(32), file.suffix(32))
    }

    /// `git init --separate-git-dir`: the work tree is where git says it is.
    func testSeparateGitDirectoryKeepsFilesInTheWorkTree() throws {
        let tree = root.appendingPathComponent("tree")
        let gitDirectory = root.appendingPathComponent("store.git")
        try git("init", "-q", "--separate-git-dir", gitDirectory.path, tree.path)
        try ok("init", in: tree)
        _ = try write(Self.linearCSV(rows: 60, seed: 3), to: "tree/data.csv")
        try ok("train", "m", "--data", "data.csv", "--target", "y", in: tree)
        XCTAssertEqual(try git("rev-parse", "--show-toplevel", in: tree), tree.resolvingSymlinksInPath().path)
        XCTAssertEqual(try git("ls-tree", "-r", "--name-only", "HEAD", in: tree).split(separator: "\n").first, ".gitattributes")
        XCTAssertTrue(FileManager.default.fileExists(atPath: tree.appendingPathComponent("models/m/model.yaml").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("models").path))
        XCTAssertEqual(try git("status", "--porcelain", "--", "models", ".mv.yaml", in: tree), "")
        try git("fsck", "--strict", in: tree)
    }

    /// GIT_DIR and GIT_WORK_TREE name the repository, whatever folder mv runs in.
    func testGitDirAndWorkTreeFromTheEnvironment() throws {
        let first = root.appendingPathComponent("k1")
        let second = root.appendingPathComponent("k2")
        for folder in [first, second] {
            try git("init", "-q", folder.path)
            try ok("init", in: folder)
        }
        _ = try write(Self.linearCSV(rows: 60, seed: 3), to: "k2/data.csv")
        var environment = Self.environment
        environment["GIT_DIR"] = first.appendingPathComponent(".git").path
        environment["GIT_WORK_TREE"] = first.path
        let judge = try Self.run(["git", "rev-parse", "--show-toplevel"], in: second, environment: environment)
        XCTAssertEqual(judge.stdout.trimmingCharacters(in: .newlines), first.resolvingSymlinksInPath().path)
        let result = try mv(
            ["train", "m", "--data", second.appendingPathComponent("data.csv").path, "--target", "y"], in: second, environment: environment)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try git("tag", in: first), "m@v1.0.0")
        XCTAssertEqual(try git("tag", in: second), "")
        XCTAssertTrue(FileManager.default.fileExists(atPath: first.appendingPathComponent("models/m/model.yaml").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: second.appendingPathComponent("models").path))
        XCTAssertEqual(try git("status", "--porcelain", "--", "models", in: first), "")
    }

    /// A bare repository: every command but a checkout into the work tree and `mv init` works.
    func testBareRepositoryRunsEveryCommandThatNeedsNoWorkTree() throws {
        try train("m", seed: 1)
        let bare = root.appendingPathComponent("bare.git")
        try git("clone", "-q", "--bare", root.path, bare.path)
        let data = root.appendingPathComponent("train.csv").path
        try ok("list", in: bare)
        try ok("show", "m", in: bare)
        try ok("train", "m", "--data", data, "--target", "y", "--seed", "2", in: bare)
        try ok("eval", "m@v1", "--data", data, in: bare)
        try ok("promote", "m@v2", in: bare)
        try ok("diff", "m@v1", "m@v2", in: bare)
        try ok("verify", "m@v2", in: bare)
        try ok("checkout", "m@v1", "--to", root.appendingPathComponent("out").path, in: bare)
        try ok("status", in: bare)
        let checkout = try mv(["checkout", "m@v1"], in: bare)
        XCTAssertEqual(checkout.status, 1)
        XCTAssertEqual(checkout.stderr, "mv: error: a bare repository has no work tree; use --to <folder>\n")
        let initialize = try mv(["init"], in: bare)
        XCTAssertEqual(initialize.status, 1)
        XCTAssertTrue(initialize.stderr.contains("is a bare repository; run 'mv init' in a clone with a work tree"), initialize.stderr)
        XCTAssertFalse((checkout.stderr + initialize.stderr).contains("not allowed against bare repositories"))
        try git("fsck", "--strict", in: bare)
    }

    /// A `.git` mv may not write in: one line saying so, and what still works.
    func testReadOnlyGitDirectoryIsNamed() throws {
        try train("m", seed: 1)
        var arguments = [Self.mvBinary.path, "train", "m", "--data", "train.csv", "--target", "y", "--seed", "2"]
        var environment = Self.environment
        if getuid() == 0 {
            // root writes anywhere: run as nobody, with git's blessing to use root's repository.
            let home = root.appendingPathComponent("nobody-home")
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            try git("config", "-f", home.appendingPathComponent(".gitconfig").path, "safe.directory", root.resolvingSymlinksInPath().path)
            environment["HOME"] = home.path
            environment["XDG_CONFIG_HOME"] = home.path
            arguments = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + arguments
            let probe = try Self.run(Array(arguments.prefix(5)) + ["--version"], in: root, environment: environment)
            guard probe.status == 0 else { throw XCTSkip("cannot run mv as another user here: \(probe.stderr)") }
        } else {
            try Self.run(["chmod", "-R", "a-w", ".git"], in: root)
        }
        defer { _ = try? Self.run(["chmod", "-R", "u+w", ".git"], in: root) }
        let before = try snapshot()
        let result = try Self.run(arguments, in: root, environment: environment)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.hasPrefix("mv: error: cannot write in '"), result.stderr)
        XCTAssertTrue(result.stderr.contains("hint: reading commands (list, show, log, diff, verify, export) still work"), result.stderr)
        XCTAssertFalse(result.stderr.contains("NSCocoaErrorDomain"), result.stderr)
        XCTAssertEqual(try snapshot(), before)
        let list = try Self.run(Array(arguments.dropLast(8)) + ["list"], in: root, environment: environment)
        XCTAssertEqual(list.status, 0, list.stderr)
    }

    /// A clone without tags knows no versions: say how to get them.
    func testShallowCloneWithoutTagsHintsAtFetchingThem() throws {
        try train("m", seed: 1)
        try git("add", "train.csv")
        try git("commit", "-q", "-m", "data")
        let clone = root.appendingPathComponent("shallow")
        try git("clone", "-q", "--depth", "1", "--no-tags", "file://\(root.path)", clone.path)
        let result = try mv(["show", "m"], in: clone)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("it has no versions in this clone, which has no version tags"), result.stderr)
        XCTAssertTrue(result.stderr.contains("hint: fetch the tags: git fetch --tags"), result.stderr)
        try git("fetch", "-q", "--tags", in: clone)
        try ok("show", "m", in: clone)
    }

    /// A version committed on a detached HEAD is reachable from its tag only: a warning says so.
    func testDetachedHeadWarns() throws {
        try train("m", seed: 1)
        try git("checkout", "-q", "--detach")
        let result = try ok("train", "m", "--data", "train.csv", "--target", "y", "--seed", "2")
        XCTAssertTrue(
            result.stderr.contains("mv: warning: HEAD is detached, so commit ")
                && result.stderr.contains("is reachable only from its tag 'm@v2.0.0'; keep it on a branch with 'git switch -c <branch>'"),
            result.stderr)
        try git("switch", "-q", "-c", "kept")
        let attached = try ok("train", "m", "--data", "train.csv", "--target", "y", "--seed", "3")
        XCTAssertEqual(attached.stderr, "")
        try git("merge-base", "--is-ancestor", "m@v2.0.0", "kept")
    }

    /// CSV cells that are almost numbers are named; hex and NUL are refused; a float target
    /// makes a regression tree; a line of gigabytes fails at once.
    func testCSVSurprisesAreNamed() throws {
        func table(replacingRow10 row: String) -> String {
            var lines = Self.linearCSV(rows: 50, seed: 4).split(separator: "\n").map(String.init)
            lines[10] = row
            return lines.joined(separator: "\n") + "\n"
        }
        for (cell, row) in [("1_000", "1_000,0.3"), ("1,5", "\"1,5\",0.3"), ("0x10", "0x10,0.3")] {
            _ = try write(table(replacingRow10: row), to: "bad.csv")
            try assertRefused(
                ["train", "c", "--data", "bad.csv", "--target", "y"],
                mentions: ["row 11, column 'x': '\(cell)' is not a number, though the column's other 49 values are"])
        }
        _ = try write(table(replacingRow10: "0.1\u{0},0.3"), to: "bad.csv")
        try assertRefused(["train", "c", "--data", "bad.csv", "--target", "y"], mentions: ["line 11 holds a NUL byte"])

        let tree = try ok("train", "tree", "--algorithm", "decision-tree", "--data", "train.csv", "--target", "y")
        XCTAssertTrue(tree.stderr.contains("so decision-tree does regression (criterion mse)"), tree.stderr)
        XCTAssertTrue(tree.stdout.contains("rmse"), tree.stdout)

        let handle = try FileHandle(forWritingTo: write("x1,y\n", to: "huge.csv"))
        try handle.seekToEnd()
        let block = Data(repeating: UInt8(ascii: "1"), count: 1 << 20)
        for _ in 0..<65 { handle.write(block) }
        try handle.close()
        try assertRefused(["train", "c", "--data", "huge.csv", "--target", "y"], mentions: ["'huge.csv' line 2 is longer than 64 MiB"])
        _ = try write("x1,y\n" + String(repeating: "1,", count: 100_001) + "\n", to: "wide.csv")
        try assertRefused(["train", "c", "--data", "wide.csv", "--target", "y"], mentions: ["line 2 has more than 100000 fields"])
    }

    /// Names that `mv show NAME` would confuse with a revision or a version are refused for a
    /// new model, with a suggestion.
    func testModelNamesThatShadowRevisionsAreRefused() throws {
        try git("add", "train.csv")
        try git("commit", "-q", "-m", "data")
        try git("tag", "release")
        try git("branch", "topic")
        let other = try git("branch", "--show-current") == "main" ? "master" : "main"
        for (name, reason) in [
            ("HEAD", "git's name for a revision"), ("ORIG_HEAD", "git's name for a revision"), (other, "the usual name of a branch"),
            ("topic", "a branch of this repository"), ("release", "a tag of this repository"), ("1", "a number"), ("v2", "a version"),
        ] {
            try assertRefused(
                ["train", name, "--data", "train.csv", "--target", "y"],
                mentions: ["cannot name a model '\(name)': that is also \(reason)", "hint: choose another name, e.g. '\(name)-model'"])
        }
        try ok("train", "head-model", "--data", "train.csv", "--target", "y")
    }
}
