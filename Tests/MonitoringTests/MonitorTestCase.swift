import Foundation
import TestSupport
import XCTest

/// A repository with `mv init` done, and churn-like data generated on demand.
class MonitorTestCase: GitTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try initRegistry()
    }

    /// Trains churn v1 (logistic regression) on 2,000 rows.
    func trainChurn(rows: Int = 2000, seed: UInt64 = 1) throws {
        _ = try write(Self.churnCSV(rows: rows, seed: seed), to: "train.csv")
        try mvOK("train", "churn", "--data", "train.csv", "--target", "churned", "--algorithm", "logistic-regression")
    }

    /// `mv monitor … --json` parsed, with its exit status.
    func monitorJSON(_ arguments: String..., file: StaticString = #filePath, line: UInt = #line) throws -> (
        status: Int32, json: [String: Any]
    ) {
        let result = try mv(["monitor"] + arguments + ["--json"])
        guard let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            XCTFail("mv monitor printed no JSON (status \(result.status)): \(result.stderr)", file: file, line: line)
            return (result.status, [:])
        }
        return (result.status, object)
    }

    func features(_ json: [String: Any]) -> [String: [String: Any]] {
        let list = json["features"] as? [[String: Any]] ?? []
        return Dictionary(list.map { ($0["name"] as? String ?? "?", $0) }, uniquingKeysWith: { a, _ in a })
    }
}
