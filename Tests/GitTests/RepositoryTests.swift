import Foundation
import TestSupport
import XCTest

@testable import Git

final class RepositoryTests: GitTestCase {
    let signature = Signature(
        name: "Test Author", email: "author@example.com", time: Date(timeIntervalSince1970: 1_700_000_000), offsetMinutes: 0)

    func testCreateAndDiscoverFromSubfolder() throws {
        let repo = try Repository.create(at: root.path)
        XCTAssertEqual(try repo.head().referenceName, "refs/heads/main")
        XCTAssertNil(try repo.head().target)
        let nested = root.appendingPathComponent("a/b")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        let found = try Repository.discover(from: nested.path)
        XCTAssertEqual(found.workingDirectory?.standardizedFileURL.path, root.standardizedFileURL.path)
        XCTAssertEqual(try git("rev-parse", "--is-inside-work-tree"), "true")
    }

    func testDiscoverOutsideRepositoryFails() throws {
        XCTAssertThrowsError(try Repository.discover(from: root.path)) { error in
            XCTAssertEqual((error as? GitError)?.code, .notFound)
        }
    }

    func testBlobsFromMemoryAndStreamedFileMatchGit() throws {
        let repo = try Repository.create(at: root.path)
        let small = try repo.objects.writeBlob(Data("hello\n".utf8))
        let helloFile = root.appendingPathComponent("hello.txt")
        try Data("hello\n".utf8).write(to: helloFile)
        XCTAssertEqual(small.description, try git("hash-object", helloFile.path))
        XCTAssertEqual(try git("cat-file", "-p", small.description), "hello")

        // Larger than the streaming chunk, so several writes go through the wstream.
        var bytes = [UInt8](repeating: 0, count: 3 * 1024 * 1024 + 17)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 2_654_435_761 >> 7) }
        let file = root.appendingPathComponent("big.bin")
        try Data(bytes).write(to: file)
        let id = try repo.objects.writeBlob(fileAt: file)
        XCTAssertEqual(id.description, try git("hash-object", file.path))
        XCTAssertEqual(try git("cat-file", "-s", id.description), String(bytes.count))
        XCTAssertEqual(try repo.objects.readBlob(id), Data(bytes))
        let copy = root.appendingPathComponent("copy.bin")
        try repo.objects.writeBlob(id, toFileAt: copy)
        XCTAssertEqual(try Data(contentsOf: copy), Data(bytes))
        try git("fsck", "--strict")
    }

    func testReplacingNestedEntryKeepsEverythingElse() throws {
        let repo = try Repository.create(at: root.path)
        let a = try repo.objects.writeBlob(Data("a".utf8))
        let b = try repo.objects.writeBlob(Data("b".utf8))
        let inner = try repo.writeTree([TreeEntry(name: "x.txt", mode: .blob, id: a)])
        let base = try repo.replacingEntry(in: nil, at: ["models", "one"], with: TreeEntry(name: "", mode: .tree, id: inner))
        let withReadme = try repo.replacingEntry(in: base, at: ["README"], with: TreeEntry(name: "", mode: .blob, id: b))
        let replaced = try repo.replacingEntry(in: withReadme, at: ["models", "two"], with: TreeEntry(name: "", mode: .tree, id: inner))
        let commit = try repo.createCommit(tree: replaced, parents: [], message: "m\n", author: signature, committer: signature)
        let listing = try git("ls-tree", "-r", "--name-only", commit.description)
        XCTAssertEqual(listing.split(separator: "\n"), ["README", "models/one/x.txt", "models/two/x.txt"])

        // Removing the last entry of a folder removes the folder, as git does.
        let removed = try repo.replacingEntry(in: replaced, at: ["models", "one"], with: nil)
        let afterRemoval = try repo.createCommit(tree: removed, parents: [commit], message: "rm\n", author: signature, committer: signature)
        XCTAssertEqual(
            try git("ls-tree", "-r", "--name-only", afterRemoval.description).split(separator: "\n"), ["README", "models/two/x.txt"])
        XCTAssertEqual(try repo.tree(removed).entry(atPath: "models/two/x.txt")?.id, a)
        XCTAssertNil(try repo.tree(removed).entry(atPath: "models/one"))
        try git("fsck", "--strict")
    }

    func testReplacingSeveralEntriesWritesEachTreeOnce() throws {
        let repo = try Repository.create(at: root.path)
        let a = try repo.objects.writeBlob(Data("a".utf8))
        let b = try repo.objects.writeBlob(Data("b".utf8))
        let inner = try repo.writeTree([TreeEntry(name: "x.txt", mode: .blob, id: a)])
        let base = try repo.replacingEntries(
            in: nil,
            [
                (["keep.txt"], TreeEntry(name: "", mode: .blob, id: a)),
                (["gone.txt"], TreeEntry(name: "", mode: .blob, id: a)),
                (["models", "one"], TreeEntry(name: "", mode: .tree, id: inner)),
                (["was-a-file"], TreeEntry(name: "", mode: .blob, id: b)),
            ])
        let first = try repo.createCommit(tree: base, parents: [], message: "m\n", author: signature, committer: signature)
        try repo.updateReference("refs/heads/main", to: first, expecting: nil, logMessage: "test")
        let edited = try repo.replacingEntries(
            in: base,
            [
                (["gone.txt"], nil),
                (["README"], TreeEntry(name: "", mode: .blob, id: b)),
                (["models", "one", "y.txt"], TreeEntry(name: "", mode: .blob, id: b)),
                (["models", "two"], TreeEntry(name: "", mode: .tree, id: inner)),
                // A change below a path replaced as a whole earlier in the list applies to the new entry.
                (["models", "two", "z.txt"], TreeEntry(name: "", mode: .blob, id: a)),
                // A change below a path replaced later is overridden by that replacement.
                (["models", "three", "lost.txt"], TreeEntry(name: "", mode: .blob, id: a)),
                (["models", "three"], TreeEntry(name: "", mode: .tree, id: inner)),
                (["was-a-file", "now.txt"], TreeEntry(name: "", mode: .blob, id: a)),
            ])
        let second = try repo.createCommit(tree: edited, parents: [first], message: "e\n", author: signature, committer: signature)
        try repo.updateReference("refs/heads/main", to: second, expecting: first, logMessage: "test")
        XCTAssertEqual(
            try git("ls-tree", "-r", "--name-only", second.description).split(separator: "\n"),
            [
                "README", "keep.txt", "models/one/x.txt", "models/one/y.txt", "models/three/x.txt",
                "models/two/x.txt", "models/two/z.txt", "was-a-file/now.txt",
            ])
        // Every tree written is reachable: nothing dangling.
        XCTAssertEqual(try git("fsck", "--strict", "--no-reflogs"), "")
        // One path through the old API gives the same tree.
        XCTAssertEqual(
            try repo.replacingEntry(in: base, at: ["gone.txt"], with: nil),
            try repo.replacingEntries(in: base, [(["gone.txt"], nil)]))
    }

    func testCompareAndSwapOnBranchAndTagRefs() throws {
        let repo = try Repository.create(at: root.path)
        let tree = try repo.writeTree([])
        let first = try repo.createCommit(tree: tree, parents: [], message: "first\n", author: signature, committer: signature)
        try repo.updateReference("refs/heads/main", to: first, expecting: nil, logMessage: "test")
        // Creating an existing ref is refused.
        XCTAssertThrowsError(try repo.updateReference("refs/heads/main", to: first, expecting: nil, logMessage: "test")) {
            XCTAssertEqual(($0 as? GitError)?.code, .exists)
        }
        let second = try repo.createCommit(tree: tree, parents: [first], message: "second\n", author: signature, committer: signature)
        try repo.updateReference("refs/heads/main", to: second, expecting: first, logMessage: "test")
        // A writer still holding the old tip loses the race instead of overwriting.
        let stale = try repo.createCommit(tree: tree, parents: [first], message: "stale\n", author: signature, committer: signature)
        XCTAssertThrowsError(try repo.updateReference("refs/heads/main", to: stale, expecting: first, logMessage: "test")) {
            XCTAssertEqual(($0 as? GitError)?.code, .modified)
        }
        XCTAssertEqual(try git("rev-parse", "main"), second.description)
        XCTAssertEqual(try git("log", "--format=%s", "main"), "second\nfirst")

        let tag = try repo.createTagObject(name: "m@v1.0.0", target: second, tagger: signature, message: "m v1.0.0\n")
        try repo.createReference("refs/tags/m@v1.0.0", target: tag, logMessage: "tag")
        XCTAssertEqual(try git("cat-file", "-t", "m@v1.0.0"), "tag")
        XCTAssertEqual(try git("rev-parse", "m@v1.0.0^{commit}"), second.description)
        XCTAssertEqual(try repo.annotatedTag(tag)?.targetID, second)
        XCTAssertEqual(try repo.annotatedTag(tag)?.tagger?.name, "Test Author")

        // Deleting only when the ref still has our value.
        try repo.deleteReference("refs/tags/m@v1.0.0", expecting: first)
        XCTAssertNotNil(try repo.referenceTarget("refs/tags/m@v1.0.0"))
        try repo.deleteReference("refs/tags/m@v1.0.0", expecting: tag)
        XCTAssertNil(try repo.referenceTarget("refs/tags/m@v1.0.0"))
        try git("fsck", "--strict")
    }

    func testReferenceGlobSeesLooseAndPackedRefs() throws {
        let repo = try Repository.create(at: root.path)
        let tree = try repo.writeTree([])
        let commit = try repo.createCommit(tree: tree, parents: [], message: "c\n", author: signature, committer: signature)
        try repo.updateReference("refs/heads/main", to: commit, expecting: nil, logMessage: "t")
        try git("tag", "-a", "-m", "x", "churn@v1.0.0")
        try git("tag", "-a", "-m", "x", "churn@v2.0.0")
        try git("pack-refs", "--all")
        try git("tag", "-a", "-m", "x", "churn@v3.0.0")
        try git("tag", "-a", "-m", "x", "other@v1.0.0")
        XCTAssertEqual(
            try repo.referenceNames(matching: "refs/tags/churn@v*"),
            ["refs/tags/churn@v1.0.0", "refs/tags/churn@v2.0.0", "refs/tags/churn@v3.0.0"])
        XCTAssertEqual(try repo.resolveCommit("churn@v2.0.0"), commit)
    }

    func testIndexEditsKeepOtherStagedChangesAndMatchTheWorkTree() throws {
        let repo = try Repository.create(at: root.path)
        try "one\n".write(to: root.appendingPathComponent("user.txt"), atomically: true, encoding: .utf8)
        try git("add", "user.txt")
        try git("commit", "-q", "-m", "user")
        try "staged\n".write(to: root.appendingPathComponent("user.txt"), atomically: true, encoding: .utf8)
        try git("add", "user.txt")

        let file = root.appendingPathComponent("models/m/a.txt")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try "model\n".write(to: file, atomically: true, encoding: .utf8)
        let blob = try repo.objects.writeBlob(fileAt: file)
        let index = try repo.index()
        try index.reload()
        try index.add(path: "models/m/a.txt", id: blob, mode: .blob, statFrom: file)
        try index.write()

        XCTAssertEqual(try git("diff", "--cached", "--name-only").split(separator: "\n"), ["models/m/a.txt", "user.txt"])
        XCTAssertEqual(try git("diff", "--name-only"), "", "the work tree matches the index")
        XCTAssertEqual(try repo.status(under: "models/m").map(\.path), ["models/m/a.txt"])
        XCTAssertEqual(try repo.status(under: "models/other"), [])
    }

    func testSignatureFromEnvironmentOrConfig() throws {
        let repo = try Repository.create(at: root.path)
        try repo.setConfigString("user.name", "Config Name")
        try repo.setConfigString("user.email", "config@example.com")
        XCTAssertEqual(try repo.configString("user.name"), "Config Name")
        XCTAssertEqual(try git("config", "user.email"), "config@example.com")
    }
}
