import Drift
import Foundation
import Git
import Learning
import ModelFormat

extension Registry {
    /// The reference a version recorded (`reference.yaml` in its folder), nil when it has none.
    public func reference(of content: VersionContent) throws -> ReferenceProfile? {
        let path = "\(folder(of: content.resolved.model))/\(ReferenceProfile.fileName)"
        guard let text = try text(at: path, in: content.resolved.commit) else { return nil }
        do {
            return try ReferenceProfile.parse(text, source: "\(content.resolved.label):\(path)")
        } catch let error as ModelFormatError {
            throw MVError("\(error)", hint: "record a new one with 'mv monitor … --reference data.csv'")
        }
    }

    /// A reference profiled from a CSV file: the given columns (every column when nil),
    /// typed by `kinds` where known.
    public func referenceProfile(
        fromCSV url: URL, columns: [String]?, kinds: [String: ColumnProfile.Kind] = [:], predictions: ColumnProfile? = nil
    ) throws -> ReferenceProfile {
        let (table, file) = try readTable(url)
        let names = columns ?? table.header
        do {
            let profiles = try TableProfiler.profile(table, columns: names, kinds: kinds, source: url.lastPathComponent)
            return ReferenceProfile(
                source: ReferenceProfile.Source(path: file.path, sha256: file.sha256, rows: table.rows.count, selection: nil),
                columns: profiles, predictions: predictions)
        } catch {
            throw MVError("\(error)", hint: "the reference must hold the model's feature columns")
        }
    }

    /// The distribution of a version's predictions on a CSV's rows (the file's columns the
    /// version does not take are left out), for a reference given as a file.
    public func predictionProfile(_ predictor: Predictor, fromCSV url: URL) throws -> ColumnProfile {
        let (table, _) = try readTable(url)
        let keep = table.header.indices.filter { predictor.featureNames.contains(table.header[$0]) }
        let narrowed = CSVTable(
            header: keep.map { table.header[$0] }, rows: table.rows.map { row in keep.map { row[$0] } }, rowLines: table.rowLines)
        let predictions = try predictor.predict(narrowed, source: url.lastPathComponent, probabilities: false)
        switch predictor.target.task {
        case .regression:
            return ProfileBuilder.numeric(name: "prediction", values: predictions.values, missing: 0)
        case .classification:
            return ProfileBuilder.categorical(
                name: "prediction", labels: (0..<predictions.count).map(predictions.label), missing: 0)
        }
    }

    /// The feature columns of a version and their kinds, as the manifest declares them.
    public static func featureKinds(_ manifest: Manifest) -> [(name: String, kind: ColumnProfile.Kind)] {
        manifest.features.map { ($0.name, $0.type == "categorical" || $0.type == "string" ? .categorical : .numeric) }
    }

    /// `reference.yaml` staged for a version's folder.
    func stagedReference(_ profile: ReferenceProfile, folder: String, staging: URL) throws -> StagedFile {
        let url = staging.appendingPathComponent("reference-\(UUID().uuidString).yaml")
        try Data(profile.yaml().utf8).writeUnsynced(to: url)
        return StagedFile(
            path: "\(folder)/\(ReferenceProfile.fileName)", blob: try repository.objects.writeBlob(fileAt: url), source: url,
            ownsSource: true)
    }

    /// The reference of a built-in training run: its training rows, and its hold-out predictions.
    func trainingReference(
        table: CSVTable, features: FeatureSchema, trainRows: [Int], holdout: (predictions: [Double], target: TargetSchema)?,
        dataFile: Manifest.DataFile, seed: UInt64
    ) throws -> ReferenceProfile {
        let kinds = Dictionary(
            features.columns.map { ($0.name, $0.kind == .categorical ? ColumnProfile.Kind.categorical : .numeric) },
            uniquingKeysWith: { a, _ in a })
        let columns: [ColumnProfile]
        do {
            columns = try TableProfiler.profile(
                table, columns: features.columns.map(\.name), kinds: kinds, rows: trainRows, source: dataFile.path)
        } catch {
            throw MVError("\(error)")
        }
        var predictions: ColumnProfile?
        if let holdout, !holdout.predictions.isEmpty {
            switch holdout.target.task {
            case .regression:
                predictions = ProfileBuilder.numeric(name: "prediction", values: holdout.predictions, missing: 0)
            case .classification:
                predictions = ProfileBuilder.categorical(
                    name: "prediction", labels: holdout.predictions.map { holdout.target.label(of: $0) }, missing: 0)
            }
        }
        return ReferenceProfile(
            source: ReferenceProfile.Source(
                path: dataFile.path, sha256: dataFile.sha256, rows: trainRows.count,
                selection: "training rows (\(trainRows.count) of \(table.rows.count), seed \(seed))"),
            columns: columns, predictions: predictions)
    }
}
