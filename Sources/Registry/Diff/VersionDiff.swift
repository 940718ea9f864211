import Foundation
import Git
import Learning
import ModelFormat
import TensorStore

/// What changed between two versions: hyperparameters, metrics, tensors and lineage.
public struct VersionDiff: Sendable {
    public struct Change: Sendable {
        public let name: String
        public let old: String?
        public let new: String?
    }

    public struct MetricDelta: Sendable {
        public let report: String
        public let metric: String
        public let old: Double?
        public let new: Double?
        public var absolute: Double? { old.flatMap { o in new.map { $0 - o } } }
        public var relative: Double? { old.flatMap { o in o == 0 ? nil : absolute.map { $0 / abs(o) } } }
        public let higherIsBetter: Bool?
        /// nil when unknown (no direction or nothing to compare) or unchanged.
        public var improved: Bool? {
            guard let delta = absolute, delta != 0, let higher = higherIsBetter else { return nil }
            return higher ? delta > 0 : delta < 0
        }
    }

    public enum TensorStatus: String, Sendable {
        case unchanged, changed, added, removed
        case dtypeChanged = "dtype changed"
        case shapeChanged = "shape changed"
    }

    public struct TensorDelta: Sendable {
        public let name: String
        public let status: TensorStatus
        public let old: Manifest.TensorRecord?
        public let new: Manifest.TensorRecord?
        public let maxAbsoluteChange: Double?
        public let relativeL2Change: Double?
        public let cosineSimilarity: Double?
    }

    public let old: String
    public let new: String
    public let hyperparameters: [Change]
    public let metrics: [MetricDelta]
    public let tensors: [TensorDelta]
    public let lineage: [Change]
}

extension Registry {
    public func diff(_ a: String, _ b: String, model hint: String? = nil) throws -> VersionDiff {
        let left = try content(of: resolve(a, model: hint))
        let right = try content(of: resolve(b, model: hint ?? left.resolved.model.value))
        try prefetchTensors(of: [left, right])
        return VersionDiff(
            old: left.resolved.label, new: right.resolved.label,
            hyperparameters: Self.changes(
                flatten(left.manifest.hyperparameters), flatten(right.manifest.hyperparameters), onlyChanged: false),
            metrics: try metricDeltas(left, right),
            tensors: try tensorDeltas(left, right, reader: tensors.reader()),
            lineage: Self.changes(lineageFields(left.manifest), lineageFields(right.manifest), onlyChanged: false))
    }

    private func flatten(_ value: YAMLValue, prefix: String = "") -> [(String, String)] {
        guard case .map(let pairs) = value else { return [(prefix, value.stringValue ?? "\(value)")] }
        return pairs.flatMap { key, item -> [(String, String)] in
            let name = prefix.isEmpty ? key : "\(prefix).\(key)"
            if case .map = item { return flatten(item, prefix: name) }
            if case .list(let items) = item { return [(name, "[" + items.map { $0.stringValue ?? "…" }.joined(separator: ", ") + "]")] }
            return [(name, item.stringValue ?? "null")]
        }
    }

    private func lineageFields(_ manifest: Manifest) -> [(String, String)] {
        var fields = manifest.lineage.data.map {
            ("data.\($0.role)", "\($0.path) (sha256 \($0.sha256.prefix(12))\($0.rows.map { ", \($0) rows" } ?? ""))")
        }
        fields += [
            ("algorithm", manifest.algorithm),
            ("code.commit", manifest.lineage.codeCommit.map { String($0.prefix(12)) } ?? "none"),
            ("code.dirty", manifest.lineage.codeDirty ? "true" : "false"),
            ("command", manifest.lineage.command),
            ("seed", manifest.lineage.seed.map(String.init) ?? "none"),
            ("features", manifest.features.map(\.name).joined(separator: ", ")),
            ("target", manifest.target?.name ?? "none"),
            ("mv_version", manifest.lineage.mvVersion),
        ]
        return fields
    }

    static func changes(_ old: [(String, String)], _ new: [(String, String)], onlyChanged: Bool) -> [VersionDiff.Change] {
        var names = old.map(\.0)
        for (name, _) in new where !names.contains(name) { names.append(name) }
        let oldMap = Dictionary(old, uniquingKeysWith: { $1 })
        let newMap = Dictionary(new, uniquingKeysWith: { $1 })
        return names.compactMap { name in
            let change = VersionDiff.Change(name: name, old: oldMap[name], new: newMap[name])
            return onlyChanged && change.old == change.new ? nil : change
        }
    }

    private func metricDeltas(_ left: VersionContent, _ right: VersionContent) throws -> [VersionDiff.MetricDelta] {
        let oldReports = try allReports(left)
        let newReports = try allReports(right)
        var names = oldReports.map(\.name)
        for (name, _) in newReports where !names.contains(name) { names.append(name) }
        return names.flatMap { report -> [VersionDiff.MetricDelta] in
            let oldMetrics = oldReports.first { $0.name == report }?.report.metrics ?? []
            let newMetrics = newReports.first { $0.name == report }?.report.metrics ?? []
            var metricNames = oldMetrics.map(\.name)
            for metric in newMetrics where !metricNames.contains(metric.name) { metricNames.append(metric.name) }
            return metricNames.map { metric in
                VersionDiff.MetricDelta(
                    report: report, metric: metric,
                    old: oldMetrics.first { $0.name == metric }?.value,
                    new: newMetrics.first { $0.name == metric }?.value,
                    higherIsBetter: Metrics.direction(of: metric).map { $0 == .higherIsBetter })
            }
        }
    }

    /// The tensor changes between each version of `references` and the next, as `diff`
    /// computes them; one reader serves every step, so its caches are read once.
    public func tensorChanges(along references: [String], model hint: String? = nil) throws -> [(
        old: String, new: String, tensors: [VersionDiff.TensorDelta]
    )] {
        let contents = try references.map { try content(of: resolve($0, model: hint)) }
        try prefetchTensors(of: contents)
        let reader = tensors.reader()
        return try zip(contents, contents.dropFirst()).map { left, right in
            (left.resolved.label, right.resolved.label, try tensorDeltas(left, right, reader: reader))
        }
    }

    private func tensorDeltas(_ left: VersionContent, _ right: VersionContent, reader: any TensorReader) throws -> [VersionDiff.TensorDelta]
    {
        let oldParams = left.manifest.params
        let newParams = right.manifest.params
        var names = oldParams.map(\.name)
        for record in newParams where !names.contains(record.name) { names.append(record.name) }
        return try names.map { name in
            let old = oldParams.first { $0.name == name }
            let new = newParams.first { $0.name == name }
            guard let old, let new else {
                return VersionDiff.TensorDelta(
                    name: name, status: old == nil ? .added : .removed, old: old, new: new,
                    maxAbsoluteChange: nil, relativeL2Change: nil, cosineSimilarity: nil)
            }
            if old.sha256 == new.sha256 {
                return VersionDiff.TensorDelta(
                    name: name, status: .unchanged, old: old, new: new,
                    maxAbsoluteChange: 0, relativeL2Change: 0, cosineSimilarity: 1)
            }
            if old.dtype != new.dtype || old.shape != new.shape {
                return VersionDiff.TensorDelta(
                    name: name, status: old.dtype != new.dtype ? .dtypeChanged : .shapeChanged,
                    old: old, new: new, maxAbsoluteChange: nil, relativeL2Change: nil, cosineSimilarity: nil)
            }
            let change = try reader.change(from: labeled(left, old), to: labeled(right, new))
            return VersionDiff.TensorDelta(
                name: name, status: .changed, old: old, new: new, maxAbsoluteChange: change.maxAbsoluteChange,
                relativeL2Change: change.relativeL2Change, cosineSimilarity: change.cosineSimilarity)
        }
    }
}
