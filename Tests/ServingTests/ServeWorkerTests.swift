import Foundation
import TestSupport
import XCTest

/// Versions mv cannot run itself, served by their own predictor command over the JSON-lines
/// protocol: docs/examples/predict.py as the docs show it, and predictors that crash or hang.
final class ServeWorkerTests: ServeTestCase {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/examples/predict.py")

    /// Weights of y = 2·a − 0.5·b + 1 as two .npy files, written by numpy.
    func writeWeights() throws {
        let script = """
            import numpy as np, os
            os.makedirs("weights", exist_ok=True)
            np.save("weights/coef.npy", np.array([2.0, -0.5]))
            np.save("weights/intercept.npy", np.array([1.0]))
            """
        let result = try Self.run(["python3", "-c", script], in: root)
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    func addWithPredictor(_ predictor: URL, name: String = "predict.py") throws {
        try writeWeights()
        let copy = root.appendingPathComponent("src/\(name)")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: copy)
        try FileManager.default.copyItem(at: predictor, to: copy)
        try mvOK("add", "lin", "--weights", "weights", "--serve-command", "python3 \(name)", "--serve-file", "src/\(name)")
        try mvOK("promote", "lin@v1")
    }

    func testTheDocumentedNumpyPredictorAnswersAllThreeProtocols() throws {
        try addWithPredictor(Self.example)
        XCTAssertEqual(
            try git("show", "lin@v1.0.0:models/lin/serve/predict.py"),
            try String(contentsOf: Self.example, encoding: .utf8).trimmingCharacters(in: .newlines))
        XCTAssertTrue(try git("show", "lin@v1.0.0:models/lin/model.yaml").contains("serve:\n  command: [python3, predict.py]\n"))
        let bare = root.appendingPathComponent("registry.git")
        try git("clone", "-q", "--bare", root.path, bare.path)
        let server = try ServerProcess(["--workers", "2"], in: bare)
        defer { server.stop() }
        let mlflow = try server.post("/invocations", json: "{\"instances\":[[1, 2], [0, 0], [3.5, -1]]}")
        XCTAssertEqual(mlflow.status, 200, mlflow.text + server.log)
        XCTAssertEqual(mlflow.numbers("predictions"), [2.0, 1.0, 8.5])
        XCTAssertEqual(mlflow.header("X-Model-Version"), "1.0.0")
        let tf = try server.post("/v1/models/lin:predict", json: "{\"instances\":[[1, 2]]}")
        XCTAssertEqual(tf.numbers("predictions"), [2.0], tf.text)
        let oip = try server.post(
            "/v2/models/lin/infer", json: "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP64\",\"data\":[[1,2],[0,0]]}]}")
        XCTAssertEqual(oip.numbers("data"), [2.0, 1.0], oip.text)
        // The predictor's own refusal is the client's 400.
        let refused = try server.post("/invocations", json: "{\"instances\":[[1, 2, 3]]}")
        XCTAssertEqual(refused.status, 400, refused.text)
        XCTAssertTrue(refused.text.contains("expected rows of 2 numbers"), refused.text)
        // Many requests at once share the two processes.
        let group = DispatchGroup()
        let failures = LogBuffer()
        for index in 0..<40 {
            DispatchQueue.global().async(group: group) {
                let answer = try? server.post("/invocations", json: "{\"instances\":[[\(index), 0]]}")
                if answer?.numbers("predictions") != [Double(2 * index + 1)] { failures.append(Data("\(index) ".utf8)) }
            }
        }
        group.wait()
        XCTAssertEqual(failures.text, "")
        // Exported once into the registry's git folder, and nothing else written there.
        let cache = bare.appendingPathComponent("mv/serve-cache")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache.path).count, 1)
        XCTAssertEqual(server.stop(), 0)
        XCTAssertEqual(try Self.run(["git", "fsck", "--strict"], in: bare).status, 0)
    }

    func testAPredictorThatDiesFailsOnlyItsRequestWith503AndIsRestartedOneThatHangsGets504() throws {
        let flaky = root.appendingPathComponent("flaky.py")
        let text = try String(contentsOf: Self.example, encoding: .utf8).replacingOccurrences(
            of: "    request = json.loads(line)\n",
            with: """
                    request = json.loads(line)
                    if request["rows"] and request["rows"][0][0] == 666:
                        sys.stderr.write("boom: asked to die\\n")
                        os._exit(3)
                    if request["rows"] and request["rows"][0][0] == 777:
                        import time
                        time.sleep(3600)

                """)
        try Data(text.utf8).write(to: flaky)
        try addWithPredictor(flaky, name: "flaky.py")
        let server = try ServerProcess(["--workers", "1", "--timeout", "2"], in: root)
        defer { server.stop() }
        XCTAssertEqual(try server.post("/invocations", json: "{\"instances\":[[1, 2]]}").status, 200)
        let died = try server.post("/invocations", json: "{\"instances\":[[666, 0]]}")
        XCTAssertEqual(died.status, 503, died.text)
        XCTAssertTrue(died.text.contains("the predictor exited with status 3"), died.text)
        XCTAssertTrue(died.text.contains("boom: asked to die"), died.text)
        // The replacement takes the next request (it may still be starting: retry briefly).
        XCTAssertTrue(try server.waitUntilPost(5, "/invocations", "{\"instances\":[[1, 2]]}") { $0.status == 200 }, server.log)

        let started = Date()
        let hung = try server.post("/invocations", json: "{\"instances\":[[777, 0]]}")
        XCTAssertEqual(hung.status, 504, hung.text)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertTrue(try server.waitUntilPost(5, "/invocations", "{\"instances\":[[1, 2]]}") { $0.status == 200 }, server.log)
        XCTAssertTrue(server.log.contains("a predictor process died"), server.log)
    }

    /// A training command declares its predictor with serve.yaml and serve/ in its output.
    func testATrainingCommandsPredictorIsServed() throws {
        let example = try String(contentsOf: Self.example, encoding: .utf8)
        let train = """
            import numpy as np, os, shutil
            out = os.environ["MV_OUTPUT_DIR"]
            os.makedirs(os.path.join(out, "params"))
            np.save(os.path.join(out, "params", "coef.npy"), np.array([1.0, 1.0]))
            np.save(os.path.join(out, "params", "intercept.npy"), np.array([0.5]))
            os.makedirs(os.path.join(out, "serve"))
            shutil.copy("predict.py", os.path.join(out, "serve", "predict.py"))
            open(os.path.join(out, "serve.yaml"), "w").write("command: [python3, predict.py]\\n")
            """
        _ = try write(train, to: "train.py")
        _ = try write(example, to: "predict.py")
        try mvOK("train", "own", "--", "python3", "train.py")
        XCTAssertEqual(try git("show", "own@v1.0.0:models/own/serve/predict.py"), example.trimmingCharacters(in: .newlines))
        try mvOK("promote", "own@v1")
        let server = try ServerProcess(["own"], in: root)
        defer { server.stop() }
        let answer = try server.post("/invocations", json: "{\"instances\":[[1, 2]]}")
        XCTAssertEqual(answer.numbers("predictions"), [3.5], answer.text + server.log)

        _ = try write(
            train.replacingOccurrences(
                of: "open(os.path.join(out, \"serve.yaml\"), \"w\").write(\"command: [python3, predict.py]\\n\")", with: ""), to: "train.py"
        )
        let missing = try mv(["train", "own", "--", "python3", "train.py"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("wrote serve/ but no serve.yaml"), missing.stderr)
    }

    func testAVersionWithoutAPredictorIsUnavailableWithAHintAndABrokenPredictorKeepsTheOldVersion() throws {
        try writeWeights()
        try mvOK("add", "lin", "--weights", "weights")
        try mvOK("promote", "lin@v1")
        let pinned = try mv(["serve", "lin@v1", "--port", "0"])
        XCTAssertEqual(pinned.status, 1)
        XCTAssertTrue(pinned.stderr.contains("has no predictor mv can run"), pinned.stderr)
        XCTAssertTrue(pinned.stderr.contains("--serve-command"), pinned.stderr)

        let orphan = try mv(["add", "lin", "--weights", "weights", "--serve-file", "weights/coef.npy"])
        XCTAssertEqual(orphan.status, 1)
        XCTAssertTrue(orphan.stderr.contains("--serve-file needs --serve-command"), orphan.stderr)

        // v2 has the example predictor; v3 one that fails while loading.
        try FileManager.default.copyItem(at: Self.example, to: root.appendingPathComponent("predict.py"))
        try mvOK("add", "lin", "--weights", "weights", "--serve-command", "python3 predict.py", "--serve-file", "predict.py")
        try Data("import sys\nsys.exit('cannot load: no GPU')\n".utf8).write(to: root.appendingPathComponent("broken.py"))
        try mvOK("add", "lin", "--weights", "weights", "--serve-command", "python3 broken.py", "--serve-file", "broken.py")
        try mvOK("promote", "lin@v2")
        let server = try ServerProcess([], in: root)
        defer { server.stop() }
        XCTAssertEqual(try server.post("/invocations", json: "{\"instances\":[[1, 2]]}").header("X-Model-Version"), "2.0.0")
        try mvOK("promote", "lin@v3")
        XCTAssertTrue(try server.waitUntil(10, "/metrics") { $0.text.contains("mv_reloads_total{result=\"failure\"} 1") }, server.log)
        XCTAssertEqual(try server.post("/invocations", json: "{\"instances\":[[1, 2]]}").header("X-Model-Version"), "2.0.0")
        XCTAssertTrue(server.log.contains("cannot load lin@v3.0.0"), server.log)
        XCTAssertTrue(server.log.contains("cannot load: no GPU"), server.log)
        XCTAssertTrue(server.log.contains("still serving 2.0.0"), server.log)
    }
}

extension ServerProcess {
    /// Posts until `condition` holds, up to `seconds`.
    func waitUntilPost(_ seconds: Double, _ path: String, _ json: String, _ condition: (HTTPAnswer) -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(try post(path, json: json)) { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }
}
