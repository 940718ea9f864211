import Foundation
import XCTest

@testable import Learning

/// Timings for benchmarks/learning.py; skipped unless MV_LEARN_BENCH=1.
///
/// MV_LEARN_BENCH_PLAN names a JSON file: a list of {name, algorithm, hyperparameters,
/// x, y, rows, columns}, where x and y are raw little-endian float64 files (row-major).
/// Prints one line "MV_LEARN_BENCH_RESULT <json>" with seconds per fit and a score.
final class LearningBench: XCTestCase {
    private struct Job: Decodable {
        var name: String
        var algorithm: String
        var hyperparameters: [String: String]
        var x: String
        var y: String
        var rows: Int
        var columns: Int
    }

    private struct Result: Encodable {
        var name: String
        var seconds: Double
        var trainingScore: Double
    }

    private static func doubles(_ path: String, count: Int) throws -> [Double] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(data.count, count * 8, path)
        return data.withUnsafeBytes { raw in
            Array(raw.bindMemory(to: Double.self).prefix(count))
        }
    }

    func testBenchmarks() throws {
        let environment = ProcessInfo.processInfo.environment
        guard environment["MV_LEARN_BENCH"] == "1", let planPath = environment["MV_LEARN_BENCH_PLAN"] else {
            throw XCTSkip("set MV_LEARN_BENCH=1 and MV_LEARN_BENCH_PLAN to run the learning benchmarks")
        }
        let jobs = try JSONDecoder().decode([Job].self, from: Data(contentsOf: URL(fileURLWithPath: planPath)))
        var results: [Result] = []
        for job in jobs {
            let x = Matrix(rows: job.rows, columns: job.columns, values: try Self.doubles(job.x, count: job.rows * job.columns))
            let y = try Self.doubles(job.y, count: job.rows)
            let data = Dataset(featureNames: (0..<job.columns).map { "x\($0)" }, targetName: "y", features: x, target: y)
            let trainer = try Trainers.named(job.algorithm)
            let start = DispatchTime.now().uptimeNanoseconds
            let model = try trainer.fit(data, hyperparameters: job.hyperparameters)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let predicted = try model.predict(x)
            let score: Double
            if model.task == .classification {
                score = Metrics.accuracy(predicted: predicted.map { Int($0) }, actual: y.map { Int($0) })
            } else {
                score = Metrics.regression(predicted: predicted, actual: y)[3].value
            }
            results.append(Result(name: job.name, seconds: seconds, trainingScore: score))
        }
        let json = String(decoding: try JSONEncoder().encode(results), as: UTF8.self)
        print("MV_LEARN_BENCH_RESULT \(json)")
    }
}
