import Foundation
import Registry
import Synchronization
import SystemIO

/// Keeps a `ModelTable` current with the repository: every `interval` it stats the tag refs
/// (the `refs/tags` folder and `packed-refs`: two `stat` calls), and only when they changed,
/// on SIGHUP (`requestCheck`), or every `backstop` anyway, re-resolves each spec. A spec whose
/// commit moved is loaded beside the old version and swapped in at once; one that fails to
/// load leaves the old version serving. A stage nobody holds any more makes its slot
/// unavailable.
final class StageFollower: Sendable {
    let repositoryPath: String
    /// The git folder that holds refs (shared by worktrees).
    let commonDirectory: String
    /// The user's specs, or nil to serve every model at `stage`.
    let specs: [ServedSpec]?
    let stage: String
    let table: ModelTable
    let metrics: ServerMetrics
    let log: @Sendable (String) -> Void
    let interval: Duration
    let backstop: Duration
    /// Where tags come from on a replica (`--remote`), and how often to fetch them.
    let remote: RemoteTags?
    /// Predictor processes per version served by its own command.
    let workers: Int
    private let checkRequested = Atomic<Bool>(false)
    /// Wakes the poll loop early (SIGHUP, stop).
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = Atomic<Bool>(false)

    init(
        repositoryPath: String, commonDirectory: String, specs: [ServedSpec]?, stage: String, table: ModelTable, metrics: ServerMetrics,
        interval: Duration = .milliseconds(200), backstop: Duration = .seconds(10), remote: RemoteTags? = nil,
        workers: Int = 2, log: @escaping @Sendable (String) -> Void
    ) {
        self.repositoryPath = repositoryPath
        self.commonDirectory = commonDirectory
        self.specs = specs
        self.stage = stage
        self.table = table
        self.metrics = metrics
        self.interval = interval
        self.backstop = backstop
        self.remote = remote
        self.workers = workers
        self.log = log
    }

    /// The first load, before the server listens. A pinned version (`churn@v3`) that cannot
    /// be loaded is the user's mistake and stops the server from starting; a stage with no
    /// holder yet is listed as unavailable.
    func start() throws {
        if let remote {
            try remote.check()
            fetch(remote)
        }
        let registry = try Registry.open(at: repositoryPath)
        for spec in specs ?? [] where spec.stage == nil {
            _ = try registry.servable(registry.resolve(spec.reference))
        }
        refresh(registry)
    }

    func requestCheck() {
        checkRequested.store(true, ordering: .relaxed)
        wake.signal()
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        wake.signal()
    }

    /// Polls until `stop()`; call on a thread of its own.
    func follow() {
        var stamp = refsStamp()
        var lastCheck = ContinuousClock.now
        var lastFetch = ContinuousClock.now
        while !stopped.load(ordering: .relaxed) {
            _ = wake.wait(timeout: .now() + interval.seconds)
            if stopped.load(ordering: .relaxed) { break }
            if let remote, ContinuousClock.now - lastFetch >= remote.every {
                lastFetch = ContinuousClock.now
                fetch(remote)
            }
            let now = refsStamp()
            let forced = checkRequested.exchange(false, ordering: .relaxed)
            guard now != stamp || forced || ContinuousClock.now - lastCheck >= backstop else { continue }
            // Memory freed after a burst of requests goes back to the system.
            Heap.trim()
            stamp = now
            lastCheck = ContinuousClock.now
            do {
                refresh(try Registry.open(at: repositoryPath))
            } catch {
                log("cannot read the repository (\(error)); still serving what was loaded")
                metrics.reload(succeeded: false)
            }
        }
    }

    private func fetch(_ remote: RemoteTags) {
        do {
            try remote.fetch()
            metrics.fetched(succeeded: true)
        } catch {
            metrics.fetched(succeeded: false)
            log("\(error); still serving what was loaded")
        }
    }

    /// What changes when a tag is created, moved or deleted: loose tags are files in
    /// `refs/tags` (one folder: model names hold no '/'), packed ones live in `packed-refs`.
    private func refsStamp() -> [FileStamp?] {
        [FileStamp(path: commonDirectory + "/refs/tags"), FileStamp(path: commonDirectory + "/packed-refs")]
    }

    /// A built-in model as is; a predictor command's pool started and ready before it is
    /// swapped in.
    private func load(_ servable: Servable) throws -> LoadedModel {
        switch servable {
        case .builtIn(let predictor):
            return LoadedModel(predictor: predictor)
        case .command(let command):
            let pool = WorkerPool(command, size: workers, log: log)
            try Background(async: { try await pool.start(timeout: .seconds(120)) }).value()
            return LoadedModel(pool: pool)
        }
    }

    private func refresh(_ registry: Registry) {
        let current = table.snapshot()
        let wanted: [ServedSpec]
        if let specs {
            wanted = specs
        } else {
            do {
                wanted = try registry.models().map { ServedSpec(model: $0.name, selector: .stage(stage)) }
            } catch {
                log("cannot list models (\(error)); still serving what was loaded")
                metrics.reload(succeeded: false)
                return
            }
        }
        var next: [ServedModel] = []
        for spec in wanted {
            let existing = current.first { $0.spec == spec }
            let resolved: ResolvedVersion
            do {
                resolved = try registry.resolve(spec.reference)
            } catch {
                let reason = "\(error)"
                if existing?.loaded != nil || existing == nil {
                    log("\(spec): \(reason); answering 503 for it")
                }
                next.append(ServedModel(spec: spec, loaded: nil, unavailable: reason))
                continue
            }
            if let loaded = existing?.loaded, loaded.commit == resolved.commit.description,
                loaded.resolved.version == resolved.version
            {
                next.append(existing ?? ServedModel(spec: spec, loaded: loaded))
                continue
            }
            do {
                let loaded = try load(registry.servable(resolved))
                let was = existing?.loaded.map { " (was \($0.version))" } ?? ""
                log("\(spec): serving \(resolved.label)\(was)")
                metrics.reload(succeeded: true)
                next.append(ServedModel(spec: spec, loaded: loaded))
            } catch {
                metrics.reload(succeeded: false)
                if let old = existing?.loaded {
                    log("\(spec): cannot load \(resolved.label) (\(error)); still serving \(old.version)")
                    next.append(ServedModel(spec: spec, loaded: old))
                } else {
                    log("\(spec): cannot load \(resolved.label) (\(error))")
                    next.append(ServedModel(spec: spec, loaded: nil, unavailable: "cannot load \(resolved.label): \(error)"))
                }
            }
        }
        table.replace(with: next)
        metrics.setModels(next)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
