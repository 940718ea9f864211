import Foundation
import TestSupport
import XCTest

/// `mv push`/`pull`/`clone` against a real LFS server on loopback: giftless with its S3
/// backend (JWT authentication) in front of moto's S3 server, started from
/// `LFSServer/lfs_server.py` in the venv `.ci/install-deps --test` makes. The server's own
/// request log (moto's) counts what was downloaded; git-lfs is the other client.
final class LFSServerTests: GitTestCase {
    struct Server: Decodable {
        let lfsURL: String
        let s3URL: String
        let bucket: String
        let token: String
        /// The private CA of a TLS server.
        let caFile: String?

        enum CodingKeys: String, CodingKey {
            case lfsURL = "lfs_url"
            case s3URL = "s3_url"
            case caFile = "ca_file"
            case bucket, token
        }
    }

    /// The plain-HTTP server (false) and the HTTPS one (true), each started once.
    nonisolated(unsafe) static var servers: [Bool: Server] = [:]
    nonisolated(unsafe) static var processes: [Process] = []
    nonisolated(unsafe) static var folders: [Bool: URL] = [:]

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    static var python: String {
        ProcessInfo.processInfo.environment["MV_LFS_SERVER_PYTHON"]
            ?? packageRoot.appendingPathComponent(".build/test-tools/giftless/bin/python").path
    }

    /// One server of each kind for the class: its start-up (two Python servers) takes seconds.
    func startedServer(tls: Bool = false) throws -> Server {
        if let server = Self.servers[tls] { return server }
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            throw XCTSkip("no giftless venv at \(Self.python): make test creates it (.ci/install-deps --test)")
        }
        guard (try? Self.run(["git", "lfs", "version"], in: root))?.status == 0 else { throw XCTSkip("git-lfs is not installed") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mv-lfs-server-\(UUID().uuidString)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments =
            [Self.packageRoot.appendingPathComponent("Tests/EndToEndTests/LFSServer/lfs_server.py").path, folder.path]
            + (tls ? ["--tls"] : [])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        Self.processes.append(process)
        Self.folders[tls] = folder
        let info = folder.appendingPathComponent("server.json")
        let deadline = Date().addingTimeInterval(90)
        while !FileManager.default.fileExists(atPath: info.path) {
            guard process.isRunning, Date() < deadline else {
                XCTFail("the LFS server did not start")
                throw XCTSkip("no server")
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        let server = try JSONDecoder().decode(Server.self, from: Data(contentsOf: info))
        Self.servers[tls] = server
        return server
    }

    override class func tearDown() {
        for process in processes where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        for folder in folders.values { try? FileManager.default.removeItem(at: folder) }
        super.tearDown()
    }

    var server: Server!
    /// This test's repository on the server: objects live under `<org>/<repo>/` in the bucket.
    var repoName = ""
    var lfsURL: String { server.lfsURL.replacingOccurrences(of: "/team/models.git/", with: "/team/\(repoName).git/") }
    var credentials: URL { root.appendingPathComponent("credentials") }

    override func setUpWithError() throws {
        try super.setUpWithError()
        server = try startedServer()
        repoName = "models-\(UUID().uuidString.prefix(8).lowercased())"
        let port = try XCTUnwrap(URL(string: server.lfsURL)?.port)
        try Data("http://_jwt:\(server.token)@127.0.0.1:\(port)\n".utf8).write(to: credentials)
    }

    /// The test environment plus git's credential store holding the server's token.
    var withCredentials: [String: String] {
        GitTestCase.environment.merging([
            "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "credential.helper", "GIT_CONFIG_VALUE_0": "store --file=\(credentials.path)",
        ]) { $1 }
    }

    @discardableResult
    func ok(_ arguments: [String], in folder: URL, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try mv(arguments, in: folder, environment: withCredentials)
        XCTAssertEqual(result.status, 0, "mv \(arguments.joined(separator: " ")): \(result.stderr)", file: file, line: line)
        return result.stdout
    }

    func gitWithCredentials(_ arguments: [String], in folder: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try Self.run(["git"] + arguments, in: folder, environment: withCredentials)
        XCTAssertEqual(result.status, 0, "git \(arguments.joined(separator: " ")): \(result.stderr)", file: file, line: line)
    }

    /// Runs Python with boto3 against the server's S3: `script` sees `s3`, `bucket`, `prefix`.
    @discardableResult
    func s3(_ script: String, _ arguments: [String] = []) throws -> String {
        let preamble = """
            import sys, boto3
            s3 = boto3.client('s3', endpoint_url='\(server.s3URL)', aws_access_key_id='test', aws_secret_access_key='test', region_name='us-east-1', verify=\(server.caFile.map { "'\($0)'" } ?? "None"))
            bucket, prefix = '\(server.bucket)', 'team/\(repoName)/'

            """
        let result = try Self.run([Self.python, "-c", preamble + script] + arguments, in: root)
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func serverObjects() throws -> Set<String> {
        let listing = try s3(
            "print('\\n'.join(o['Key'].split('/')[-1] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get('Contents', [])))")
        return Set(listing.split(separator: "\n").map(String.init))
    }

    /// Object downloads (or uploads) the S3 server answered for this test's repository, from its log.
    func served(_ method: String = "GET") throws -> Int {
        let log = try String(contentsOf: try XCTUnwrap(Self.folders[false]).appendingPathComponent("moto.log"), encoding: .utf8)
        return log.split(separator: "\n").filter { $0.contains("\"\(method) /\(server.bucket)/team/\(repoName)/") }.count
    }

    func oids(_ revision: String, in folder: URL) throws -> Set<String> {
        let paths = try git("ls-tree", "-r", "--name-only", revision, "models/m/params", in: folder).split(separator: "\n")
        return Set(
            try paths.filter { $0.hasSuffix(".npy") }.map { path in
                String(
                    try git("cat-file", "-p", "\(revision):\(path)", in: folder).split(separator: "\n")[1].dropFirst("oid sha256:".count))
            })
    }

    func localObjects(_ folder: URL) -> Set<String> {
        let walker = FileManager.default.enumerator(atPath: folder.appendingPathComponent(".git/lfs/objects").path)
        var found = Set<String>()
        while let path = walker?.nextObject() as? String {
            let name = (path as NSString).lastPathComponent
            if name.count == 64 { found.insert(name) }
        }
        return found
    }

    /// Alice: an LFS-storage registry whose `.lfsconfig` names the server, with a bare
    /// repository as its `origin`.
    func aliceRegistry() throws -> (server: URL, alice: URL) {
        let bare = root.appendingPathComponent("server.git")
        let alice = root.appendingPathComponent("alice")
        try git("init", "-q", "--bare", "-b", "main", bare.path)
        try FileManager.default.createDirectory(at: alice, withIntermediateDirectories: true)
        try git("init", "-q", "-b", "main", in: alice)
        try ok(["init", "--storage", "lfs"], in: alice)
        try git("config", "-f", ".lfsconfig", "lfs.url", lfsURL, in: alice)
        try git("add", ".lfsconfig", in: alice)
        try git("commit", "-q", "-m", "LFS server", in: alice)
        try git("remote", "add", "origin", bare.path, in: alice)
        return (bare, alice)
    }

    /// Alice's registry with three versions, v2 in production, pushed.
    func publishThreeVersions() throws -> (server: URL, alice: URL) {
        let (bare, alice) = try aliceRegistry()
        for number in 1...3 {
            try ok(["add", "m", "--weights", try writeSafetensors("v\(number).safetensors", seed: number, in: alice).path], in: alice)
        }
        try ok(["promote", "m@v2"], in: alice)
        let pushed = try ok(["push"], in: alice)
        XCTAssertTrue(pushed.contains("uploaded 27 tensor objects"), pushed)
        XCTAssertTrue(pushed.contains(lfsURL), pushed)
        return (bare, alice)
    }

    func testPushCloneAndPullMoveOnlyTheObjectsTheVersionsNeed() throws {
        let (bare, alice) = try publishThreeVersions()
        let all = localObjects(alice)
        XCTAssertEqual(all.count, 27)
        XCTAssertEqual(try serverObjects(), all, "every object is on S3 behind giftless")
        XCTAssertEqual(try served("PUT"), 27)
        // The next version with one tensor changed sends one object: the batch answer says
        // the server has the other eight.
        try ok(
            ["add", "m", "--weights", try writeSafetensors("v4.safetensors", seed: 3, changed: ["layer2.weight"], in: alice).path],
            in: alice)
        let next = try ok(["push"], in: alice)
        XCTAssertTrue(next.contains("uploaded 1 tensor object (0.0 MiB)"), next)
        XCTAssertTrue(next.contains("8 already there"), next)
        XCTAssertEqual(try served("PUT"), 28)

        // A clone costs the checked-out version (v4) and the production holder (v2): 18 downloads.
        let bob = root.appendingPathComponent("bob")
        let cloned = try ok(["clone", bare.path, bob.path], in: root)
        XCTAssertTrue(cloned.contains("downloaded 18 tensor objects"), cloned)
        XCTAssertEqual(try served(), 18, "the server served v3's and v2's objects only")
        XCTAssertEqual(localObjects(bob), try oids("m@v4.0.0", in: bob).union(try oids("m@v2.0.0", in: bob)))
        XCTAssertTrue(try ok(["verify", "m#production"], in: bob).contains("all 9 tensors match"))
        XCTAssertEqual(try git("status", "--porcelain", in: bob), "")
        // An older version comes when it is read.
        XCTAssertTrue(try ok(["verify", "m@v1"], in: bob).contains("all 9 tensors match"))
        XCTAssertEqual(try served(), 27)

        // Stock git + git-lfs read the same server: same files, fsck clean.
        let carol = root.appendingPathComponent("carol")
        try gitWithCredentials(["clone", "-q", bare.path, carol.path], in: root)
        try gitWithCredentials(["lfs", "install", "--local"], in: carol)
        try gitWithCredentials(["lfs", "pull"], in: carol)
        for name in ["layer0.weight.npy", "embedding.npy"] {
            XCTAssertEqual(
                try Data(contentsOf: carol.appendingPathComponent("models/m/params/\(name)")),
                try Data(contentsOf: bob.appendingPathComponent("models/m/params/\(name)")), name)
        }
        XCTAssertEqual(try Self.run(["git", "lfs", "fsck"], in: carol, environment: withCredentials).status, 0)

        // Objects git-lfs pushes are read by mv: Carol registers v5 and pushes with plain git.
        try ok(["init"], in: carol)
        try ok(["add", "m", "--weights", try writeSafetensors("v5.safetensors", seed: 5, in: carol).path], in: carol)
        try gitWithCredentials(["push", "-q", "origin", "main", "m@v5.0.0"], in: carol)
        XCTAssertTrue(try ok(["pull"], in: bob).contains("downloaded 9 tensor objects"))
        XCTAssertTrue(try ok(["verify", "m@v5"], in: bob).contains("all 9 tensors match"))
        XCTAssertEqual(try Self.run(["git", "fsck", "--strict"], in: bob).status, 0)
    }

    func testFailedTransfersSayWhatWentWrongKeepNothingHalfWrittenAndARerunFinishes() throws {
        let (bare, alice) = try publishThreeVersions()
        let bob = root.appendingPathComponent("bob")
        try ok(["clone", bare.path, bob.path], in: root)
        let v1 = try oids("m@v1.0.0", in: bob).subtracting(localObjects(bob)).sorted()
        XCTAssertEqual(v1.count, 9)
        func verifyV1(_ environment: [String: String]) throws -> ProcessResult {
            try mv(["verify", "m@v1"], in: bob, environment: environment)
        }

        // No credentials: the server's 401 is named, nothing arrives.
        let unauthorized = try verifyV1(GitTestCase.environment)
        XCTAssertNotEqual(unauthorized.status, 0)
        XCTAssertTrue(unauthorized.stderr.contains("asks for credentials (401)"), unauthorized.stderr)
        XCTAssertTrue(localObjects(bob).isDisjoint(with: v1))

        // The server down: a connection failure, after retries.
        let closed = try Self.run(
            ["python3", "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"], in: root)
        let deadURL = "http://127.0.0.1:\(closed.stdout.trimmingCharacters(in: .whitespacesAndNewlines))/team/x.git/info/lfs"
        try git("config", "lfs.url", deadURL, in: bob)
        let down = try verifyV1(withCredentials)
        XCTAssertNotEqual(down.status, 0)
        XCTAssertTrue(down.stderr.contains("failed 4 times"), down.stderr)
        try git("config", "--unset", "lfs.url", in: bob)

        // One object missing on the server (404) and one altered there: both named; the other
        // seven arrive and stay; the altered one never enters the store.
        try s3("s3.delete_object(Bucket=bucket, Key=prefix + sys.argv[1])", [v1[0]])
        try s3("s3.put_object(Bucket=bucket, Key=prefix + sys.argv[1], Body=b'not the tensor')", [v1[1]])
        let broken = try verifyV1(withCredentials)
        XCTAssertNotEqual(broken.status, 0)
        XCTAssertTrue(broken.stderr.contains("2 of 9 LFS object(s) could not be downloaded"), broken.stderr)
        XCTAssertTrue(broken.stderr.contains("404") || broken.stderr.contains("arrived with other bytes"), broken.stderr)
        XCTAssertEqual(localObjects(bob).intersection(v1), Set(v1.dropFirst(2)))
        XCTAssertFalse(FileManager.default.fileExists(atPath: lfsObject(v1[1], in: bob).path), "the altered bytes were refused")

        // Put right on the server, a rerun finishes the work.
        for oid in v1.prefix(2) {
            try s3("s3.upload_file(sys.argv[1], bucket, prefix + sys.argv[2])", [lfsObject(oid, in: alice).path, oid])
        }
        XCTAssertTrue(try ok(["verify", "m@v1"], in: bob).contains("all 9 tensors match"))

        // An interrupted download resumes from where it stopped (Range): a partial file whose
        // first half is wrong proves only the rest was asked for — it is refused — and a
        // right half completes.
        for oid in v1.prefix(2) { try FileManager.default.removeItem(at: lfsObject(oid, in: bob)) }
        let incomplete = bob.appendingPathComponent(".git/lfs/incomplete")
        try FileManager.default.createDirectory(at: incomplete, withIntermediateDirectories: true)
        for (index, oid) in v1.prefix(2).enumerated() {
            let whole = try Data(contentsOf: lfsObject(oid, in: alice))
            let half = whole.prefix(whole.count / 2)
            try (index == 0 ? Data(repeating: 0x55, count: half.count) : Data(half)).write(to: incomplete.appendingPathComponent(oid))
        }
        let resumed = try verifyV1(withCredentials)
        XCTAssertNotEqual(resumed.status, 0, "a garbage first half plus the right second half is refused")
        XCTAssertTrue(resumed.stderr.contains("1 of 2 LFS object(s)"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("arrived with other bytes"), resumed.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: lfsObject(v1[1], in: bob).path), "the right half was completed")
        XCTAssertTrue(try ok(["verify", "m@v1"], in: bob).contains("all 9 tensors match"), "and the rerun downloads the other whole")
    }

    func testHTTPSServersAreTrustedThroughHTTPSSLCAInfoAndUntrustedOnesRefusedAtOnce() throws {
        // giftless and S3 both on HTTPS, with a certificate from a CA made for the run.
        server = try startedServer(tls: true)
        let ca = try XCTUnwrap(server.caFile)
        let port = try XCTUnwrap(URL(string: server.lfsURL)?.port)
        try Data("https://_jwt:\(server.token)@127.0.0.1:\(port)\n".utf8).write(to: credentials)
        let (bare, alice) = try aliceRegistry()
        try git("config", "http.sslCAInfo", ca, in: alice)
        try ok(["add", "m", "--weights", try writeSafetensors("v1.safetensors", seed: 1, in: alice).path], in: alice)
        let pushed = try ok(["push"], in: alice)
        XCTAssertTrue(pushed.contains("uploaded 9 tensor objects"), pushed)
        XCTAssertEqual(try serverObjects().count, 9, "the objects went through TLS to S3")

        // A clone that trusts the CA through git's configuration reads them back.
        let bob = root.appendingPathComponent("bob")
        var trusting = withCredentials
        trusting["GIT_CONFIG_COUNT"] = "2"
        trusting["GIT_CONFIG_KEY_1"] = "http.sslCAInfo"
        trusting["GIT_CONFIG_VALUE_1"] = ca
        let cloned = try mv(["clone", bare.path, bob.path], in: root, environment: trusting)
        XCTAssertEqual(cloned.status, 0, cloned.stderr)
        XCTAssertTrue(try mv(["verify", "m@v1"], in: bob, environment: trusting).stdout.contains("all 9 tensors match"))

        // Without the CA the certificate is refused on the first attempt, with the setting to use,
        // and no ref moves.
        try git("config", "--unset", "http.sslCAInfo", in: alice)
        try ok(["add", "m", "--weights", try writeSafetensors("v2.safetensors", seed: 2, in: alice).path], in: alice)
        let refused = try mv(["push"], in: alice, environment: withCredentials)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("TLS certificate is not trusted"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("http.sslCAInfo"), refused.stderr)
        XCTAssertFalse(refused.stderr.contains("times"), "not retried: \(refused.stderr)")
        XCTAssertFalse(try git("ls-remote", "--tags", bare.path).contains("m@v2"), "no ref moved")
    }
}
