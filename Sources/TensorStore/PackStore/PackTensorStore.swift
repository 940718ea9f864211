import Foundation
import Git
import ModelFormat
import SystemIO

/// The Git pack backend: every tensor (or chunk) is a Git blob, and mv writes new ones into
/// packs of its own (`Git/Pack`) at close to hashing speed; docs/STORAGE.md tells how. With
/// LFS storage the bytes go to the local Git LFS store instead and the pack holds their
/// pointers; docs/REMOTES.md tells how.
public final class PackTensorStore: TensorStore {
    let repository: Repository
    let objects: ObjectDatabase
    let state: StateFiles
    public let storage: TensorStorage
    public let lfsObjects: LFSObjects

    public init(repository: Repository, storage: TensorStorage = .git) {
        self.repository = repository
        self.storage = storage
        objects = repository.objects
        state = StateFiles(gitDirectory: repository.gitDirectory)
        lfsObjects = LFSObjects(objects: objects, store: LFSObjectStore(gitDirectory: repository.commonDirectory))
    }

    /// Whether a stored tensor's blobs are kept the way this store keeps new ones, so a new
    /// version may keep them: after switching storage, a tensor is stored anew the first
    /// time a version is written, and no version mixes the two.
    func keepsAsIs(_ blobs: [ObjectID]) -> Bool {
        (try? blobs.allSatisfy { try (lfsObjects.pointer($0) != nil) == (storage == .lfs) }) ?? false
    }

    public func store(_ request: StoreRequest) throws -> StoreOutcome {
        // What mv read before is loaded meanwhile: neither needs the repository.
        let cache = Background { [state] in InputCache(state) }
        let fingerprints = Background { [state] in TensorFingerprints.load(state) }
        let previous = try request.previous().filter { keepsAsIs($0.value.blobs) }
        PhaseTrace.mark("stage: previous tensors")
        let planned = try request.plans.value()
        PhaseTrace.mark("stage: planned")
        let total = planned.totalBytes
        request.progress?(0, total)
        var ingest = PackIngest(plans: planned.plans, previous: previous, staging: request.staging, objects: objects, state: state)
        ingest.inputCache = try cache.value()
        ingest.knownFingerprints = try fingerprints.value()
        if storage == .lfs { ingest.lfs = lfsObjects.store }
        ingest.keeps = { [unowned self] in keepsAsIs($0) }
        if let progress = request.progress { ingest.progress = { done in progress(done, total) } }
        // Inputs are read through memory maps: one cut short meanwhile must end with a message.
        let outcome = try FaultGuard.guarding(message: Self.faultMessage) { try ingest.run() }
        PhaseTrace.mark("stage: ingest")
        request.progress?(total, total)
        return outcome
    }

    static let faultMessage: StaticString = """
        mv: error: a file mv was reading was cut short by another program; nothing was committed
        hint: wait for whatever writes it to finish, then run the command again

        """

    public func storeFile(_ npyFile: URL, name: String, file: String?, dtype logical: DType?) throws -> (
        record: Manifest.TensorRecord, blob: ObjectID
    ) {
        let summary = try TensorSummary(npyFile: npyFile, dtype: logical)
        let statistics = summary.statistics
        let record = Manifest.TensorRecord(
            name: name, file: "params/\(file ?? name + ".npy")", dtype: (logical ?? summary.header.dtype).rawValue,
            shape: summary.header.shape, bytes: summary.size, sha256: summary.sha256, min: statistics.min, max: statistics.max,
            mean: statistics.mean, std: statistics.std, l2Norm: statistics.l2Norm)
        guard storage == .lfs else { return (record, try objects.writeBlob(fileAt: npyFile)) }
        let data = try Data(contentsOf: npyFile)
        try data.withUnsafeBytes { try lfsObjects.store.store($0, oid: summary.sha256) }
        return (record, try objects.writeBlob(Data(LFSPointer(oid: summary.sha256, size: data.count).text.utf8)))
    }

    public func reader() -> any TensorReader {
        PackReader(objects: objects, state: state, lfs: lfsObjects)
    }

    public func removeAbandonedFiles() -> Int64 {
        // A walk that fails keeps the packs: deleting is only right when nothing reaches them.
        let orphans = (try? PendingPacks(state: state, objects: objects).removeOrphans(repository)) ?? 0
        return BlobPack.removeAbandonedTemporaries(objects) + orphans
    }

    public func published() {
        PendingPacks(state: state, objects: objects).forgetOwn()
    }

    public func finished() {
        PendingPacks(state: state, objects: objects).discardOwn()
    }
}

/// What the manifest records of one .npy file: layout, statistics, content hash, size.
struct TensorSummary: Sendable {
    let header: NpyHeader
    let statistics: TensorStatistics
    let sha256: String
    let size: Int

    init(npyFile: URL, dtype logical: DType?) throws {
        do {
            (header, statistics) = try TensorStatistics.compute(npyFileAt: npyFile, as: logical)
            sha256 = try ContentHash.sha256(fileAt: npyFile)
        } catch {
            throw TensorStoreError("\(error)")
        }
        size = (try? FileManager.default.attributesOfItem(atPath: npyFile.path)[.size] as? Int) ?? 0
    }
}
