// Serving: `mv serve`, an HTTP server for model versions, above Registry. It speaks three
// protocols clients already use — MLflow's scoring server (Protocols/MLflow), TF Serving's
// REST API (Protocols/TFServing) and the Open Inference Protocol of KServe, Triton and
// MLServer (Protocols/OpenInference) — predicting through Registry's `Predictor`, the same
// path `mv predict` takes. Models/ holds what is served and the follower that swaps in a new
// version when a stage tag moves; HTTP/ the router, limits, JSON and Prometheus metrics.
// Nothing below this target knows HTTP; this target makes no Git writes.
//   Models/     served specs, the table requests read, the stage follower
//   HTTP/       routes, the responder and its bounds, JSON reading/writing, metrics, errors
//   Protocols/  request and answer shapes of MLflow, TF Serving and the Open Inference Protocol
//   Log/        the prediction log (--log-predictions), written off the request path

import Dispatch
import Foundation
import Hummingbird
import Logging
import NIOCore
import Registry
import ServiceLifecycle
import SystemIO

/// Everything `mv serve` is told.
public struct ServeConfiguration: Sendable {
    public var repositoryPath: String
    /// What to serve; nil serves every model at `stage`.
    public var specs: [ServedSpec]?
    public var stage: String
    public var host: String
    public var port: Int
    public var limits: ServeLimits
    /// How long SIGTERM waits for requests in flight before the server exits anyway.
    public var drainTimeout: Duration
    /// How often the tag refs are stat'ed.
    public var pollInterval: Duration
    /// Where prediction records go, and which fraction of requests (0…1) is recorded.
    public var logFolder: URL?
    public var logSample: Double = 1
    public var logMaxBytes: Int = 64 << 20
    /// On a replica: the remote whose tags to fetch (`--remote`) and how often.
    public var remote: String?
    public var fetchEvery: Duration = .seconds(30)
    /// Predictor processes per version that has its own predictor command.
    public var workers = 2

    public init(
        repositoryPath: String, specs: [ServedSpec]?, stage: String = "production", host: String = "127.0.0.1", port: Int = 8080,
        limits: ServeLimits = ServeLimits(), drainTimeout: Duration = .seconds(30), pollInterval: Duration = .milliseconds(200)
    ) {
        self.repositoryPath = repositoryPath
        self.specs = specs
        self.stage = stage
        self.host = host
        self.port = port
        self.limits = limits
        self.drainTimeout = drainTimeout
        self.pollInterval = pollInterval
    }
}

/// Runs the server until SIGTERM or SIGINT, then drains: no new connections, requests in
/// flight answered (up to `drainTimeout`), and returns.
public enum ModelServer {
    public static func run(
        _ configuration: ServeConfiguration, log: @escaping @Sendable (String) -> Void,
        listening: @escaping @Sendable (_ address: String) -> Void
    ) async throws {
        let registry = try Registry.open(at: configuration.repositoryPath)
        // After libgit2's setup, which tunes the heap for reading big tensors (free memory
        // kept up to 256 MiB): a server holds its memory for days, so keep little.
        Heap.compact(arenas: 2, mmapThreshold: 1 << 20, trimThreshold: 8 << 20)
        let table = ModelTable()
        let metrics = ServerMetrics()
        let follower = StageFollower(
            repositoryPath: configuration.repositoryPath, commonDirectory: registry.repository.commonDirectory.path,
            specs: configuration.specs, stage: configuration.stage, table: table, metrics: metrics,
            interval: configuration.pollInterval,
            remote: configuration.remote.map {
                RemoteTags(repositoryPath: configuration.repositoryPath, remote: $0, every: configuration.fetchEvery)
            }, workers: configuration.workers, log: log)
        try follower.start()
        if table.snapshot().isEmpty {
            log("no model has a version yet; serving none until one holds stage '\(configuration.stage)'")
        }
        let thread = Thread { follower.follow() }
        thread.name = "mv-stage-follower"
        thread.start()
        defer { follower.stop() }

        // SIGHUP: check the stage tags now.
        signal(SIGHUP, SIG_IGN)
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        hangup.setEventHandler { follower.requestCheck() }
        hangup.resume()
        defer { hangup.cancel() }

        let predictionLog = try configuration.logFolder.map {
            try PredictionLog(folder: $0, sample: configuration.logSample, maxBytes: configuration.logMaxBytes)
        }
        defer { predictionLog?.close() }
        var logger = Logger(label: "mv-serve")
        logger.logLevel = .critical
        let host = configuration.host
        let app = Application(
            responder: ServeResponder(table: table, metrics: metrics, limits: configuration.limits, predictionLog: predictionLog),
            server: .http1(configuration: .init(idleTimeout: .seconds(120))),
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "mv/\(Registry.mvVersion)"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                listening(host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)")
            },
            logger: logger)
        var group = ServiceGroupConfiguration(
            services: [app], gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
        group.maximumGracefulShutdownDuration = configuration.drainTimeout
        do {
            try await ServiceGroup(configuration: group).run()
        } catch {
            throw MVError("the server stopped: \(describe(error))", hint: bindHint(error, configuration))
        }
    }

    private static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("Address already in use") || text.contains("EADDRINUSE") { return "the address is already in use" }
        return text
    }

    private static func bindHint(_ error: any Error, _ configuration: ServeConfiguration) -> String? {
        let text = "\(error)"
        if text.contains("Address already in use") || text.contains("EADDRINUSE") {
            return "another process listens on \(configuration.host):\(configuration.port); pick another --port (0 picks a free one)"
        }
        return nil
    }
}
