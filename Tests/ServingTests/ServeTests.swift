import Foundation
import TestSupport
import XCTest

/// `mv serve` as a user runs it: a real server on a loopback port, called with plain HTTP the
/// way MLflow, TF Serving and KServe clients call theirs, judged against `mv predict`.
class ServeTestCase: GitTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try initRegistry()
    }

    /// price: linear regression on y = 3x + 2, versions v1 and v2 (different seeds).
    func trainPrice() throws {
        _ = try write(Self.linearCSV(rows: 200), to: "price.csv")
        try mvOK("train", "price", "--data", "price.csv", "--target", "y", "--seed", "1")
        try mvOK("train", "price", "--data", "price.csv", "--target", "y", "--seed", "2")
    }

    /// churn: logistic regression on a numeric and a categorical feature, with probabilities.
    func trainChurn() throws {
        var state: UInt64 = 7
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        var lines = ["tenure,plan,churned"]
        let plans = ["basic", "pro", "max"]
        for _ in 0..<300 {
            let tenure = next() * 20
            let plan = plans[Int(next() * 3) % 3]
            let score = 8 - tenure + (plan == "basic" ? 3 : plan == "pro" ? 0 : -2) + (next() - 0.5) * 6
            lines.append(String(format: "%.3f,%@,%@", tenure, plan, score > 0 ? "yes" : "no"))
        }
        _ = try write(lines.joined(separator: "\n") + "\n", to: "churn.csv")
        try mvOK("train", "churn", "--data", "churn.csv", "--target", "churned", "--algorithm", "logistic-regression")
    }

    func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }
}

final class ServeProtocolTests: ServeTestCase {
    /// Every protocol answers what `mv predict` prints for the same rows, probabilities too.
    func testAllThreeProtocolsAnswerExactlyWhatMVPredictPrints() throws {
        try trainPrice()
        try trainChurn()
        try mvOK("promote", "price@v2")
        try mvOK("promote", "churn@v1")
        let rows = [("1.5", "basic"), ("12.25", "max"), ("4", "pro"), ("0", "basic")]
        _ = try write("tenure,plan\n" + rows.map { "\($0.0),\($0.1)" }.joined(separator: "\n") + "\n", to: "in.csv")
        _ = try write("x\n1.5\n-3\n1e3\n", to: "x.csv")
        let predicted = try mvOK("predict", "churn#production", "--data", "in.csv", "--proba")
        let expected = predicted.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        let header = predicted.split(separator: "\n")[0].split(separator: ",").map(String.init)
        XCTAssertEqual(header, ["prediction", "p_no", "p_yes"])
        let prices = try mvOK("predict", "price#production", "--data", "x.csv").split(separator: "\n").dropFirst().compactMap { Double($0) }
        XCTAssertEqual(prices.count, 3)

        let server = try ServerProcess([], in: root)
        defer { server.stop() }
        let records = rows.map { "{\"tenure\":\($0.0),\"plan\":\"\($0.1)\"}" }.joined(separator: ",")

        // MLflow: four JSON shapes and CSV give the same labels.
        let bodies = [
            "{\"dataframe_split\":{\"columns\":[\"tenure\",\"plan\"],\"data\":[\(rows.map { "[\($0.0),\"\($0.1)\"]" }.joined(separator: ","))]}}",
            "{\"dataframe_records\":[\(records)]}",
            "{\"instances\":[\(records)]}",
            "{\"inputs\":{\"tenure\":[\(rows.map(\.0).joined(separator: ","))],\"plan\":[\(rows.map { "\"\($0.1)\"" }.joined(separator: ","))]}, \"params\": {\"x\": 1}}",
        ]
        for body in bodies {
            let answer = try server.post("/invocations?model=churn", json: body)
            XCTAssertEqual(answer.status, 200, answer.text)
            XCTAssertEqual(try answer.object()["predictions"] as? [String], expected.map { $0[0] }, body)
            XCTAssertEqual(answer.header("X-Model-Name"), "churn")
            XCTAssertEqual(answer.header("X-Model-Version"), "1.0.0")
            XCTAssertEqual(answer.header("X-Model-Commit"), try git("rev-parse", "churn@v1.0.0^{commit}"))
        }
        let csv = try server.send(
            HTTPRequestText(
                method: "POST", path: "/invocations", headers: ["Content-Type": "text/csv; charset=utf-8", "X-Model-Name": "price"],
                body: Data("x\n1.5\n-3\n1e3\n".utf8)))
        XCTAssertEqual(csv.status, 200, csv.text)
        XCTAssertEqual(csv.numbers("predictions"), prices)
        XCTAssertEqual(csv.header("X-Model-Version"), "2.0.0")

        // TF Serving: instances as records and as lists, inputs as columns.
        let tf = try server.post("/v1/models/price:predict", json: "{\"instances\":[[1.5],[-3],[1e3]]}")
        XCTAssertEqual(tf.status, 200, tf.text)
        XCTAssertEqual(tf.numbers("predictions"), prices)
        let scalar = try server.post("/v1/models/price/labels/production:predict", json: "{\"instances\":[1.5,-3,1e3]}")
        XCTAssertEqual(scalar.numbers("predictions"), prices, scalar.text)
        let columns = try server.post("/v1/models/price/versions/2:predict", json: "{\"inputs\":{\"x\":[1.5,-3,1e3]}}")
        XCTAssertEqual(columns.numbers("outputs"), prices, columns.text)
        let status = try server.get("/v1/models/price")
        let entry = try XCTUnwrap((try status.object()["model_version_status"] as? [[String: Any]])?.first)
        XCTAssertEqual(entry["version"] as? String, "2")
        XCTAssertEqual(entry["state"] as? String, "AVAILABLE")
        XCTAssertEqual(try server.get("/v1/models/price/versions/2.0.0").status, 200)
        XCTAssertEqual(try server.get("/v1/models/price/versions/1").status, 404)
        XCTAssertEqual(try server.get("/v1/models/churn/metadata").status, 200)

        // Open Inference Protocol: one [N, F] tensor, and one tensor per column (pd style).
        let tensor = """
            {"id":"req-1","inputs":[{"name":"input-0","shape":[4,2],"datatype":"BYTES",
             "data":[\(rows.map { "\"\($0.0)\",\"\($0.1)\"" }.joined(separator: ","))]}]}
            """
        let perColumn = """
            {"parameters":{"content_type":"pd"},"inputs":[
             {"name":"tenure","shape":[4],"datatype":"FP64","data":[\(rows.map(\.0).joined(separator: ","))]},
             {"name":"plan","shape":[4,1],"datatype":"BYTES","data":[\(rows.map { "[\"\($0.1)\"]" }.joined(separator: ","))]}]}
            """
        for body in [tensor, perColumn] {
            let answer = try server.post("/v2/models/churn/infer", json: body)
            XCTAssertEqual(answer.status, 200, answer.text)
            let outputs = try XCTUnwrap(try answer.object()["outputs"] as? [[String: Any]])
            XCTAssertEqual(outputs.map { $0["name"] as? String }, ["predict", "predict_proba"])
            XCTAssertEqual(outputs[0]["data"] as? [String], expected.map { $0[0] })
            XCTAssertEqual(outputs[0]["datatype"] as? String, "BYTES")
            XCTAssertEqual(outputs[1]["shape"] as? [Int], [4, 2])
            let probabilities = answer.numbers("data", occurrence: 1)
            XCTAssertEqual(probabilities, expected.flatMap { [Double($0[1])!, Double($0[2])!] }, "bit-identical to mv predict --proba")
        }
        XCTAssertEqual(try server.post("/v2/models/churn/infer", json: tensor).object()["id"] as? String, "req-1")
        let onlyProba = try server.post(
            "/v2/models/churn/infer",
            json: perColumn.replacingOccurrences(of: "\"parameters\"", with: "\"outputs\":[{\"name\":\"predict_proba\"}],\"parameters\""))
        XCTAssertEqual(
            (try onlyProba.object()["outputs"] as? [[String: Any]])?.map { $0["name"] as? String }, ["predict_proba"], onlyProba.text)
        let metadata = try server.get("/v2/models/churn").object()
        XCTAssertEqual(metadata["platform"] as? String, "mv")
        XCTAssertEqual((metadata["inputs"] as? [[String: Any]])?.map { $0["datatype"] as? String }, ["FP64", "BYTES"])
        XCTAssertEqual(try server.get("/v2/models/churn/ready").status, 200)
        XCTAssertEqual(try server.get("/v2/models/churn/versions/1/ready").status, 200)
        XCTAssertEqual(try server.get("/v2/health/live").status, 200)
        XCTAssertEqual(try server.get("/v2/health/ready").status, 200)
        XCTAssertEqual(try server.get("/v2").object()["name"] as? String, "mv")

        // MLflow's health endpoints, request ids, metrics.
        XCTAssertEqual(try server.get("/ping").status, 200)
        XCTAssertEqual(try server.get("/health").status, 200)
        XCTAssertEqual(try server.get("/version").text, try mvOK("--version").trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(try server.get("/ping", headers: ["X-Request-Id": "abc-123"]).header("X-Request-Id"), "abc-123")
        XCTAssertEqual(try server.get("/ping").header("X-Request-Id")?.count, 16)
        let metrics = try server.get("/metrics")
        XCTAssertEqual(metrics.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertTrue(
            metrics.text.contains("mv_requests_total{model=\"churn\",version=\"1.0.0\",route=\"mlflow_invocations\",status=\"200\"} 4"),
            metrics.text)
        XCTAssertTrue(
            metrics.text.contains(
                "mv_model_info{model=\"price\",version=\"2.0.0\",commit=\"\(try git("rev-parse", "price@v2.0.0^{commit}"))\""), metrics.text
        )
        XCTAssertTrue(metrics.text.contains("mv_rows_predicted_total{model=\"churn\",version=\"1.0.0\"}"), metrics.text)
        XCTAssertTrue(metrics.text.contains("mv_request_duration_seconds_bucket{route=\"v2_infer\",le=\"+Inf\"}"), metrics.text)
        XCTAssertTrue(metrics.text.contains("mv_reloads_total{result=\"success\"} 2"), metrics.text)
        XCTAssertEqual(server.stop(), 0, server.log)
    }
}

/// Real clients, unchanged: NVIDIA's tritonclient (the Open Inference Protocol with its binary
/// tensor extension, which it uses by default).
final class ServeClientTests: ServeTestCase {
    func testTritonClientInfersWithBinaryAndJSONTensors() throws {
        guard try Self.run(["python3", "-c", "import tritonclient.http"], in: root).status == 0 else {
            throw XCTSkip("tritonclient is not installed (make test installs it: pip install 'tritonclient[http]')")
        }
        try trainPrice()
        try mvOK("promote", "price@v2")
        _ = try write("x\n1.5\n-3\n1e3\n", to: "x.csv")
        let expected = try mvOK("predict", "price#production", "--data", "x.csv").split(separator: "\n").dropFirst().compactMap {
            Double($0)
        }
        let server = try ServerProcess([], in: root)
        defer { server.stop() }
        let script = """
            import sys, numpy as np
            import tritonclient.http as http
            c = http.InferenceServerClient(url="127.0.0.1:\(server.port)")
            assert c.is_server_live() and c.is_server_ready() and c.is_model_ready("price")
            assert c.get_model_metadata("price")["inputs"][0]["name"] == "x"
            rows = np.array([[1.5], [-3.0], [1e3]])
            binary = http.InferInput("x", [3, 1], "FP64")
            binary.set_data_from_numpy(rows)
            plain = http.InferInput("x", [3, 1], "FP64")
            plain.set_data_from_numpy(rows, binary_data=False)
            for given in (binary, plain):
                print(" ".join(repr(float(v)) for v in c.infer("price", [given]).as_numpy("predict")))
            """
        let result = try Self.run(["python3", "-c", script], in: root)
        XCTAssertEqual(result.status, 0, result.stderr + server.log)
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ").compactMap { Double($0) } }
        XCTAssertEqual(lines, [expected, expected])
    }
}

final class ServePredictionLogTests: ServeTestCase {
    func testEveryRequestIsOneJSONLineInSizeRotatedFilesAndSamplingRecordsAFraction() throws {
        try trainChurn()
        try mvOK("promote", "churn@v1")
        let server = try ServerProcess(["--log-predictions", "logs", "--log-max-bytes", "2k"], in: root)
        for index in 0..<30 {
            let answer = try server.post(
                "/invocations",
                json: "{\"dataframe_records\":[{\"tenure\":\(index),\"plan\":\"pro\"},{\"tenure\":1.5,\"plan\":\"basic\"}]}",
                headers: ["X-Request-Id": "r\(index)"])
            XCTAssertEqual(answer.status, 200, answer.text)
        }
        let proba = try server.post(
            "/v2/models/churn/infer",
            json:
                "{\"inputs\":[{\"name\":\"tenure\",\"shape\":[1],\"datatype\":\"FP64\",\"data\":[2]},{\"name\":\"plan\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"max\"]}]}",
            headers: ["X-Request-Id": "oip"])
        XCTAssertEqual(proba.status, 200)
        XCTAssertEqual(try server.post("/invocations", json: "{\"instances\":[{\"tenure\":1}]}").status, 400, "refused: not logged")
        XCTAssertEqual(server.stop(), 0, server.log)

        let folder = root.appendingPathComponent("logs")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".jsonl") }.sorted()
        XCTAssertGreaterThan(files.count, 1, "rotated past 2 KiB: \(files)")
        var records: [[String: Any]] = []
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                records.append(try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line)))
            }
        }
        XCTAssertEqual(records.count, 31)
        let first = try XCTUnwrap(records.first { $0["request_id"] as? String == "r7" })
        XCTAssertEqual(first["model"] as? String, "churn")
        XCTAssertEqual(first["version"] as? String, "1.0.0")
        XCTAssertEqual(first["commit"] as? String, try git("rev-parse", "churn@v1.0.0^{commit}"))
        XCTAssertEqual(first["route"] as? String, "mlflow_invocations")
        XCTAssertEqual(first["columns"] as? [String], ["tenure", "plan"])
        XCTAssertEqual((first["rows"] as? [[Any]])?.count, 2)
        XCTAssertEqual(((first["rows"] as? [[Any]])?[0][0] as? NSNumber)?.intValue, 7)
        XCTAssertEqual((first["predictions"] as? [String])?.count, 2)
        XCTAssertNotNil(first["latency_ms"] as? NSNumber)
        let time = try XCTUnwrap(first["time"] as? String)
        XCTAssertTrue(time.hasSuffix("Z") && time.count == 24, time)
        XCTAssertNotNil(ISO8601DateFormatter().date(from: String(time.prefix(19)) + "Z"), time)
        let oip = try XCTUnwrap(records.first { $0["request_id"] as? String == "oip" })
        XCTAssertEqual(oip["classes"] as? [String], ["no", "yes"])
        XCTAssertEqual((oip["probabilities"] as? [[NSNumber]])?.first?.count, 2)

        let sampled = try ServerProcess(["--log-predictions", "sampled", "--log-sample", "0.5"], in: root)
        for _ in 0..<200 {
            XCTAssertEqual(try sampled.post("/invocations", json: "{\"instances\":[[1, \"pro\"]]}").status, 200)
        }
        let metrics = try sampled.get("/metrics").text
        XCTAssertEqual(sampled.stop(), 0)
        let lines = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("sampled").path).reduce(0) {
            $0 + (try String(contentsOf: root.appendingPathComponent("sampled/\($1)"), encoding: .utf8)).split(separator: "\n").count
        }
        XCTAssertTrue((40...160).contains(lines), "about half of 200: \(lines)")
        XCTAssertTrue(metrics.contains("mv_prediction_log_records_total{outcome=\"dropped\"} 0"), metrics)
    }
}
