import Foundation
import TestSupport
import XCTest

/// Whatever a client sends, it gets its 4xx/5xx with a message, and the server keeps serving.
final class ServeBadInputTests: ServeTestCase {
    func testEachBadRequestGetsItsStatusAndTheServerKeepsServing() throws {
        try trainChurn()
        try mvOK("promote", "churn@v1")
        let server = try ServerProcess(["--max-body", "2k", "--max-rows", "3", "--timeout", "1.5"], in: root)
        defer { server.stop() }
        func mlflow(_ body: String, contentType: String = "application/json") throws -> HTTPAnswer {
            try server.post("/invocations", json: body, headers: ["Content-Type": contentType])
        }
        func expect(
            _ answer: HTTPAnswer, _ status: Int, _ fragment: String, file: StaticString = #filePath, line: UInt = #line
        ) throws {
            XCTAssertEqual(answer.status, status, answer.text, file: file, line: line)
            let object = try answer.object()
            let message = (object["message"] ?? object["error"]) as? String ?? ""
            XCTAssertTrue(message.contains(fragment), "'\(message)' lacks '\(fragment)'", file: file, line: line)
            if object["error_code"] != nil, status == 400 || status == 413 || status == 415 {
                XCTAssertEqual(object["error_code"] as? String, "BAD_REQUEST", file: file, line: line)
            }
        }
        let good = "{\"instances\":[{\"tenure\":3,\"plan\":\"pro\"}]}"
        XCTAssertEqual(try mlflow(good).status, 200)

        try expect(try mlflow(good, contentType: "text/plain"), 415, "application/json or text/csv")
        try expect(try mlflow("{\"instances\":[1,}"), 400, "malformed JSON")
        try expect(try mlflow("{\"instances\":[[NaN, \"pro\"]]}"), 400, "malformed JSON")
        try expect(try mlflow("{\"instances\":[[1e400, \"pro\"]]}"), 400, "out of range")
        try expect(try mlflow(String(repeating: "[", count: 100) + String(repeating: "]", count: 100)), 400, "nesting too deep")
        try expect(try mlflow("{\"instances\":[{\"tenure\":3}]}"), 400, "plan")
        try expect(try mlflow("{\"instances\":[{\"tenure\":3,\"plan\":\"pro\",\"zip\":1}]}"), 400, "unexpected column 'zip'")
        try expect(try mlflow("{\"instances\":[{\"tenure\":3,\"plan\":\"gold\"}]}"), 400, "gold")
        try expect(try mlflow("{\"instances\":[{\"tenure\":\"soon\",\"plan\":\"pro\"}]}"), 400, "soon")
        try expect(try mlflow("{\"instances\":[{\"tenure\":[3],\"plan\":\"pro\"}]}"), 400, "found an array")
        try expect(try mlflow("{\"instances\":[[3, \"pro\"]], \"inputs\":[[3, \"pro\"]]}"), 400, "send exactly one")
        try expect(try mlflow("{\"rows\":[]}"), 400, "none of dataframe_split")
        try expect(try mlflow("{\"instances\":[]}"), 400, "no rows")
        try expect(try mlflow("{\"instances\":[[1,\"pro\"],[2,\"pro\"],[3,\"pro\"],[4,\"pro\"]]}"), 413, "--max-rows 3")
        try expect(try mlflow("{\"instances\":[[1,\"pro\"," + String(repeating: " ", count: 3000) + "]]}"), 413, "--max-body")
        try expect(try mlflow("tenure,plan\n1,pro\n2", contentType: "text/csv"), 400, "has 1 field")
        var invalid = Data("{\"instances\":[[1, \"".utf8)
        invalid += Data([0xFF, 0xFE])
        invalid += Data("\"]]}".utf8)
        try expect(
            try server.send(
                HTTPRequestText(method: "POST", path: "/invocations", headers: ["Content-Type": "application/json"], body: invalid)),
            400, "not UTF-8")

        // A chunked body is read like any other; an endless one is cut at --max-body.
        let chunk = Data(good.utf8)
        let chunked = Data(String(chunk.count, radix: 16).utf8) + Data("\r\n".utf8) + chunk + Data("\r\n0\r\n\r\n".utf8)
        let answer = try server.send(
            HTTPRequestText(
                method: "POST", path: "/invocations", headers: ["Content-Type": "application/json", "Transfer-Encoding": "chunked"],
                body: chunked))
        XCTAssertEqual(answer.status, 200, answer.text)
        let big = Data(String(repeating: " ", count: 1500).utf8)
        let twoChunks = (0..<2).reduce(Data()) { all, _ in all + Data("5dc\r\n".utf8) + big + Data("\r\n".utf8) } + Data("0\r\n\r\n".utf8)
        try expect(
            try server.send(
                HTTPRequestText(
                    method: "POST", path: "/invocations", headers: ["Content-Type": "application/json", "Transfer-Encoding": "chunked"],
                    body: twoChunks)), 413, "--max-body")

        // Routes, models, versions and methods that do not exist.
        try expect(try server.get("/nowhere"), 404, "no endpoint '/nowhere'")
        try expect(try server.post("/v1/models/nope:predict", json: good), 404, "model 'nope' is not served here (served: churn)")
        try expect(try server.get("/v2/models/churn/versions/7"), 404, "version 7 of 'churn' is not served here (serving 1.0.0)")
        try expect(try server.post("/v1/models/churn:classify", json: good), 404, "no endpoint")
        let wrongMethod = try server.get("/invocations")
        XCTAssertEqual(wrongMethod.status, 405)
        XCTAssertEqual(wrongMethod.header("Allow"), "POST")
        try expect(
            try server.post(
                "/v2/models/churn/infer", json: "{\"inputs\":[{\"name\":\"tenure\",\"shape\":[2],\"datatype\":\"FP64\",\"data\":[1]}]}"),
            400, "but 1 values")
        try expect(
            try server.post(
                "/v2/models/churn/infer",
                json: "{\"inputs\":[{\"name\":\"t\",\"shape\":[4611686018427387904,4],\"datatype\":\"FP64\",\"data\":[1]}]}"), 400, "shape")
        try expect(
            try server.post(
                "/v2/models/churn/infer", json: "{\"inputs\":[{\"name\":\"tenure\",\"shape\":[1],\"datatype\":\"FP64\",\"data\":[\"x\"]}]}"),
            400, "FP64 but holds a string")
        try expect(
            try server.post(
                "/v2/models/churn/infer", json: "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"FP64\",\"data\":[1,2,3]}]}"),
            400, "takes 2")

        // Triton's binary tensor extension with sizes that do not add up.
        let header = "{\"inputs\":[{\"name\":\"tenure\",\"shape\":[1],\"datatype\":\"FP64\",\"parameters\":{\"binary_data_size\":8}}]}"
        for (length, extra, fragment) in [
            (header.utf8.count + 50, 8, "beyond the body"), (header.utf8.count, 4, "beyond the binary data"),
            (header.utf8.count, 12, "4 bytes of binary data follow"),
        ] {
            let answer = try server.send(
                HTTPRequestText(
                    method: "POST", path: "/v2/models/churn/infer",
                    headers: ["Content-Type": "application/octet-stream", "Inference-Header-Content-Length": String(length)],
                    body: Data(header.utf8) + Data(repeating: 0, count: extra)))
            try expect(answer, 400, fragment)
        }

        // A slow client: half a body, then nothing; it gets 504 after --timeout.
        let slow = try HTTPConnection(port: server.port)
        try slow.write(
            Data("POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"inst".utf8))
        let started = Date()
        let late = try slow.readAnswer()
        XCTAssertEqual(late.status, 504, late.text)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)

        XCTAssertEqual(try mlflow(good).status, 200, "still serving: \(server.log)")
        XCTAssertTrue(server.process.isRunning)
        let metrics = try server.get("/metrics").text
        XCTAssertTrue(metrics.contains("route=\"mlflow_invocations\",status=\"400\""), metrics)
    }

    func testMoreRequestsThanMaxConcurrentGet503AtOnce() throws {
        try trainPrice()
        try mvOK("promote", "price@v1")
        let server = try ServerProcess(["--max-concurrent", "1"], in: root)
        defer { server.stop() }
        let holder = try HTTPConnection(port: server.port)
        try holder.write(
            Data("POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 19\r\n\r\n{\"ins".utf8))
        Thread.sleep(forTimeInterval: 0.3)
        let refused = try server.post("/invocations", json: "{\"instances\":[[1]]}")
        XCTAssertEqual(refused.status, 503, refused.text)
        XCTAssertTrue(refused.text.contains("--max-concurrent"), refused.text)
        try holder.write(Data("tances\":[[1]]}".utf8))
        XCTAssertEqual(try holder.readAnswer().status, 200)
        XCTAssertEqual(try server.post("/invocations", json: "{\"instances\":[[1]]}").status, 200)
    }

    func testCommandLineMistakesAreOneLineErrors() throws {
        try trainPrice()
        for (arguments, fragment) in [
            (["serve", "price@v9"], "'price' has no version v9.0.0"),
            (["serve", "../x"], "is not a model to serve"),
            (["serve", "price#"], "names no stage"),
            (["serve", "--port", "70000"], "--port must be"),
            (["serve", "--max-body", "lots"], "--max-body"),
        ] {
            let result = try mv(arguments)
            XCTAssertNotEqual(result.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(result.stderr.contains(fragment), "\(arguments): \(result.stderr)")
        }
        let outside = try mv(["serve", "-C", FileManager.default.temporaryDirectory.path])
        XCTAssertEqual(outside.status, 1)
        XCTAssertTrue(outside.stderr.hasPrefix("mv: error: not a git repository"), outside.stderr)

        try mvOK("promote", "price@v1")
        let first = try ServerProcess([], in: root)
        defer { first.stop() }
        let second = try mv(["serve", "--port", String(first.port)])
        XCTAssertEqual(second.status, 1)
        XCTAssertTrue(second.stderr.contains("already in use"), second.stderr)
        XCTAssertTrue(second.stderr.contains("hint: another process listens on 127.0.0.1:\(first.port)"), second.stderr)
    }
}
