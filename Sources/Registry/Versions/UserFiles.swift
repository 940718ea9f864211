import Foundation
import ModelFormat

/// Files users hand to mv (hyperparameters, metrics), read strictly.
extension Registry {
    func readUserYAML(_ url: URL) throws -> YAMLValue {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw MVError("cannot read '\(url.path)': no such file")
        }
        do { return try YAMLValue.parse(String(decoding: data, as: UTF8.self), source: url.lastPathComponent) } catch {
            throw MVError("\(error)")
        }
    }

    func readMetricsFile(_ url: URL) throws -> [(name: String, value: Double)] {
        guard case .map(let pairs) = try readUserYAML(url) else {
            throw MVError("'\(url.lastPathComponent)' must map metric names to numbers, e.g. 'rmse: 0.42'")
        }
        return try pairs.map { name, value in
            guard let number = value.doubleValue else {
                throw MVError("metric '\(name)' in '\(url.lastPathComponent)' is not a number ('\(value.stringValue ?? "a nested value")')")
            }
            guard (try? ModelName(name)) != nil else {
                throw MVError("metric name '\(name)' in '\(url.lastPathComponent)' is not valid: use \(ModelName.rule)")
            }
            return (name, number)
        }
    }
}
