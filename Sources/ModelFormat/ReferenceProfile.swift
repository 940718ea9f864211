import Foundation

/// `reference.yaml`: the distribution of each input column of the rows a version was
/// trained on (and of its hold-out predictions), which `mv monitor` compares live data
/// with. Summaries only, a few KiB per column; docs/FORMAT.md and docs/MONITORING.md say
/// what each field means and how the drift statistics read it.
public struct ReferenceProfile: Sendable, Equatable {
    public static let fileName = "reference.yaml"
    public static let formatVersion = 1

    /// Where the rows came from.
    public struct Source: Sendable, Equatable {
        public var path: String
        public var sha256: String
        public var rows: Int
        /// Which rows of the file, e.g. "training rows (800 of 1000, seed 42)".
        public var selection: String?

        public init(path: String, sha256: String, rows: Int, selection: String?) {
            self.path = path
            self.sha256 = sha256
            self.rows = rows
            self.selection = selection
        }
    }

    public var source: Source
    public var columns: [ColumnProfile]
    /// The hold-out predictions of the version (training with a built-in algorithm only).
    public var predictions: ColumnProfile?

    public init(source: Source, columns: [ColumnProfile], predictions: ColumnProfile?) {
        self.source = source
        self.columns = columns
        self.predictions = predictions
    }

    public func column(_ name: String) -> ColumnProfile? { columns.first { $0.name == name } }

    public func yaml() -> String {
        var source: [(String, YAMLValue)] = [
            ("path", .string(self.source.path)), ("sha256", .string(self.source.sha256)), ("rows", .int(self.source.rows)),
        ]
        if let selection = self.source.selection { source.append(("selection", .string(selection))) }
        var root: [(String, YAMLValue)] = [
            ("format", .int(Self.formatVersion)), ("source", .map(source)), ("columns", .list(columns.map(\.yamlValue))),
        ]
        if let predictions { root.append(("predictions", predictions.yamlValue)) }
        return "# mv reference distributions: written by mv (see docs/FORMAT.md, docs/MONITORING.md)\n"
            + YAMLValue.map(root).yamlDocument()
    }

    public static func parse(_ text: String, source: String = fileName) throws -> ReferenceProfile {
        let root = try YAMLValue.parse(text, source: source)
        let fields = FieldReader(value: root, file: source, path: "")
        let format = try fields.int("format")
        guard format >= 1, format <= formatVersion else {
            throw ModelFormatError.unsupportedFormat(file: source, found: format, supported: formatVersion)
        }
        let origin = try fields.child("source")
        let profile = ReferenceProfile(
            source: Source(
                path: try origin.string("path"), sha256: try origin.string("sha256"), rows: try origin.int("rows"),
                selection: try origin.optionalString("selection")),
            columns: try fields.list("columns").map(ColumnProfile.init(fields:)),
            predictions: try fields.optionalChild("predictions").map(ColumnProfile.init(fields:)))
        var seen = Set<String>()
        for column in profile.columns where !seen.insert(column.name).inserted {
            throw ModelFormatError.invalidField(file: source, field: "columns", problem: "names '\(column.name)' twice")
        }
        return profile
    }
}

/// The distribution of one column: how many values, how many missing, and a numeric
/// sketch or category counts.
public struct ColumnProfile: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case numeric
        case categorical
    }

    public var name: String
    public var kind: Kind
    /// Values present (not missing).
    public var count: Int
    public var missing: Int
    public var numeric: NumericSketch?
    public var categorical: CategoryCounts?

    public init(name: String, kind: Kind, count: Int, missing: Int, numeric: NumericSketch?, categorical: CategoryCounts?) {
        self.name = name
        self.kind = kind
        self.count = count
        self.missing = missing
        self.numeric = numeric
        self.categorical = categorical
    }

    var yamlValue: YAMLValue {
        var fields: [(String, YAMLValue)] = [
            ("name", .string(name)), ("type", .string(kind.rawValue)), ("count", .int(count)), ("missing", .int(missing)),
        ]
        if let numeric { fields += numeric.yamlFields }
        if let categorical { fields += categorical.yamlFields }
        return .map(fields)
    }

    init(fields: FieldReader) throws {
        name = try fields.string("name")
        let type = try fields.string("type")
        guard let kind = Kind(rawValue: type) else {
            throw ModelFormatError.invalidField(file: fields.file, field: "\(fields.path).type", problem: "must be numeric or categorical")
        }
        self.kind = kind
        count = try fields.int("count")
        missing = try fields.int("missing")
        switch kind {
        case .numeric: numeric = count > 0 ? try NumericSketch(fields: fields, count: count) : nil
        case .categorical: categorical = try CategoryCounts(fields: fields)
        }
    }
}

/// A numeric column in brief. `points` are the distinct values among `quantiles`; `at`
/// counts the values equal to each point and `between` those strictly between consecutive
/// points, so both cumulative distributions are known exactly at every point.
public struct NumericSketch: Sendable, Equatable {
    public var min: Double
    public var max: Double
    public var mean: Double
    /// Population standard deviation (divided by n), as numpy's default.
    public var std: Double
    /// q0…q100 (numpy's default linear interpolation); q0 is the minimum, q100 the maximum.
    public var quantiles: [Double]
    public var points: [Double]
    public var at: [Int]
    public var between: [Int]
    /// Per pair of consecutive points a < b: Σ (b − x) / count over the values strictly
    /// between them — the area under the distribution function there above its value at a,
    /// so Wasserstein distances need not assume the values spread evenly inside.
    public var gapAreas: [Double]
    /// Inner edges of the PSI bins: (-inf, e1), [e1, e2), …, [ek, +inf).
    public var psiEdges: [Double]
    /// The reference share of each PSI bin.
    public var psiShares: [Double]
    /// Every distinct value and its count, when there are few (at most 20).
    public var values: [(value: Double, count: Int)]?

    public init(
        min: Double, max: Double, mean: Double, std: Double, quantiles: [Double], points: [Double], at: [Int],
        between: [Int], gapAreas: [Double], psiEdges: [Double], psiShares: [Double], values: [(value: Double, count: Int)]?
    ) {
        self.min = min
        self.max = max
        self.mean = mean
        self.std = std
        self.quantiles = quantiles
        self.points = points
        self.at = at
        self.between = between
        self.gapAreas = gapAreas
        self.psiEdges = psiEdges
        self.psiShares = psiShares
        self.values = values
    }

    public static func == (a: NumericSketch, b: NumericSketch) -> Bool {
        a.min == b.min && a.max == b.max && a.mean == b.mean && a.std == b.std && a.quantiles == b.quantiles
            && a.points == b.points && a.at == b.at && a.between == b.between && a.gapAreas == b.gapAreas
            && a.psiEdges == b.psiEdges
            && a.psiShares == b.psiShares && a.values?.map(\.value) == b.values?.map(\.value)
            && a.values?.map(\.count) == b.values?.map(\.count)
    }

    var yamlFields: [(String, YAMLValue)] {
        var fields: [(String, YAMLValue)] = [
            ("min", .double(min)), ("max", .double(max)), ("mean", .double(mean)), ("std", .double(std)),
            ("quantiles", .list(quantiles.map(YAMLValue.double))), ("points", .list(points.map(YAMLValue.double))),
            ("at", .list(at.map(YAMLValue.int))), ("between", .list(between.map(YAMLValue.int))),
            ("gap_areas", .list(gapAreas.map(YAMLValue.double))),
            ("psi_bins", .map([("edges", .list(psiEdges.map(YAMLValue.double))), ("shares", .list(psiShares.map(YAMLValue.double)))])),
        ]
        if let values { fields.append(("values", .list(values.map { .list([.double($0.value), .int($0.count)]) }))) }
        return fields
    }

    init(fields: FieldReader, count: Int) throws {
        func problem(_ key: String, _ text: String) -> ModelFormatError {
            .invalidField(file: fields.file, field: "\(fields.path).\(key)", problem: text)
        }
        min = try fields.double("min")
        max = try fields.double("max")
        mean = try fields.double("mean")
        std = try fields.double("std")
        quantiles = try fields.finiteNumbers("quantiles")
        points = try fields.finiteNumbers("points")
        at = try fields.intList("at")
        between = try fields.intList("between")
        gapAreas = try fields.finiteNumbers("gap_areas")
        let bins = try fields.child("psi_bins")
        psiEdges = try bins.finiteNumbers("edges")
        psiShares = try bins.finiteNumbers("shares")
        if case .list(let pairs)? = fields.value["values"] {
            values = try pairs.map { pair in
                guard case .list(let items) = pair, items.count == 2, let value = items[0].doubleValue, let count = items[1].intValue
                else { throw problem("values", "must be a list of [value, count] pairs") }
                return (value, count)
            }
        }
        // The statistics index these lists by each other: refuse a sketch they cannot read.
        guard !points.isEmpty, zip(points, points.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw problem("points", "must be increasing numbers")
        }
        guard at.count == points.count, between.count == points.count - 1, gapAreas.count == between.count else {
            throw problem("at", "needs one count per point, and 'between' and 'gap_areas' one fewer")
        }
        guard at.reduce(0, +) + between.reduce(0, +) == count else {
            throw problem("at", "and 'between' must add up to count (\(count))")
        }
        guard psiShares.count == psiEdges.count + 1, zip(psiEdges, psiEdges.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw problem("psi_bins", "needs increasing edges and one share more than edges")
        }
    }
}

/// A categorical column in brief: the most frequent categories with their counts, and how
/// many values fell outside them.
public struct CategoryCounts: Sendable, Equatable {
    public var categories: [(label: String, count: Int)]
    /// Values of categories beyond the stored ones.
    public var other: Int
    /// Distinct categories seen, stored or not.
    public var distinct: Int

    public init(categories: [(label: String, count: Int)], other: Int, distinct: Int) {
        self.categories = categories
        self.other = other
        self.distinct = distinct
    }

    public static func == (a: CategoryCounts, b: CategoryCounts) -> Bool {
        a.categories.map(\.label) == b.categories.map(\.label) && a.categories.map(\.count) == b.categories.map(\.count)
            && a.other == b.other && a.distinct == b.distinct
    }

    var yamlFields: [(String, YAMLValue)] {
        [
            ("categories", .map(categories.map { ($0.label, .int($0.count)) })), ("other", .int(other)),
            ("distinct", .int(distinct)),
        ]
    }

    init(fields: FieldReader) throws {
        guard case .map(let pairs)? = fields.value["categories"] else {
            throw ModelFormatError.invalidField(
                file: fields.file, field: "\(fields.path).categories", problem: "must map categories to counts")
        }
        categories = try pairs.map { label, value in
            guard let count = value.intValue, count >= 0 else {
                throw ModelFormatError.invalidField(
                    file: fields.file, field: "\(fields.path).categories.\(label)", problem: "must be a count")
            }
            return (label, count)
        }
        other = try fields.int("other")
        distinct = try fields.int("distinct")
    }
}
