import ArgumentParser
import Foundation
import Registry
import Serving
import SystemIO

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve versions over HTTP (MLflow, TF Serving and KServe V2 clients), following stages as they move.",
        discussion: """
            mv serve                  every model's production version
            mv serve churn#staging    churn's staging holder, swapped when the stage moves
            mv serve churn@v3 price   a pinned version, and price at --stage
            Endpoints: /invocations, /ping, /health, /version (MLflow);
            /v1/models/<m>[:predict] (TF Serving); /v2/models/<m>[/infer] (KServe V2);
            /metrics (Prometheus). docs/SERVING.md has them all.
            SIGHUP: check the stage tags now. SIGTERM, Ctrl-C: finish requests, exit.
            """)

    @Argument(help: "What to serve: model (at --stage), model@vN, model#stage. Default: every model at --stage.")
    var models: [String] = []

    @Option(help: "The stage bare model names follow.")
    var stage = "production"

    @Option(help: "Address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one; the address is printed).")
    var port = 8080

    @Option(name: .customLong("max-body"), help: "Largest request body in bytes (k, M, G suffixes); larger ones get 413.")
    var maxBody: ByteCount = ByteCount(16 << 20)

    @Option(name: .customLong("max-rows"), help: "Most rows in one request; more get 413.")
    var maxRows = 100_000

    @Option(name: .customLong("max-concurrent"), help: "Most requests answered at once; more get 503 at once.")
    var maxConcurrent = 256

    @Option(help: "Seconds one request may take, body included; slower ones get 504.")
    var timeout: Double = 30

    @Option(name: .customLong("drain-timeout"), help: "Seconds SIGTERM waits for requests in flight.")
    var drainTimeout: Double = 30

    @Option(name: .customLong("log-predictions"), help: "Write one JSON line per request (inputs, predictions, version) into this folder.")
    var logPredictions: String?

    @Option(name: .customLong("log-sample"), help: "Fraction of requests the prediction log records (0 < f ≤ 1).")
    var logSample: Double = 1

    @Option(name: .customLong("log-max-bytes"), help: "Start a new prediction log file past this size (k, M, G).")
    var logMaxBytes: ByteCount = ByteCount(64 << 20)

    @Option(help: "Predictor processes per version that has its own predictor command (mv add --serve-command).")
    var workers = 2

    @Option(help: "On a replica: fetch tags from this remote (git CLI, your credentials) and follow stages there.")
    var remote: String?

    @Option(name: .customLong("fetch-every"), help: "How often --remote is fetched: 30s, 5m, 500ms.")
    var fetchEvery: Seconds = Seconds(30)

    @Option(help: "Seconds between two looks at the stage tags (a stat of refs/tags and packed-refs).")
    var poll: Double = 0.2

    @Option(name: [.customShort("C"), .customLong("repo")], help: "The repository (default: the current folder).")
    var repo: String = FileManager.default.currentDirectoryPath

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        guard maxRows > 0, maxConcurrent > 0, (1...64).contains(workers) else {
            throw ValidationError("--max-rows and --max-concurrent must be positive, --workers 1…64")
        }
        guard logSample > 0, logSample <= 1 else { throw ValidationError("--log-sample must be in (0, 1]") }
        guard timeout > 0, drainTimeout >= 0, poll > 0 else {
            throw ValidationError("--timeout and --poll must be positive, --drain-timeout not negative")
        }
    }

    func run() throws {
        let specs: [ServedSpec]?
        do {
            specs = models.isEmpty ? nil : try models.map { try ServedSpec(parsing: $0, defaultStage: stage) }
        } catch let error as ServeError {
            throw MVError(error.message, hint: "e.g. mv serve churn, mv serve churn@v3, mv serve churn#staging")
        }
        var configuration = ServeConfiguration(
            repositoryPath: repo, specs: specs, stage: stage, host: host, port: port,
            limits: ServeLimits(
                maxBody: maxBody.bytes, maxRows: maxRows, maxConcurrent: maxConcurrent, timeout: .milliseconds(Int(timeout * 1000))),
            drainTimeout: .milliseconds(Int(drainTimeout * 1000)), pollInterval: .milliseconds(Int(poll * 1000)))
        configuration.logFolder = logPredictions.map { URL(fileURLWithPath: $0, relativeTo: URL(fileURLWithPath: repo, isDirectory: true)) }
        configuration.logSample = logSample
        configuration.remote = remote
        configuration.workers = workers
        configuration.fetchEvery = .milliseconds(Int(fetchEvery.value * 1000))
        configuration.logMaxBytes = logMaxBytes.bytes
        let settings = configuration
        try Background(async: {
            try await ModelServer.run(settings, log: ServeLog.line) { address in
                // Unbuffered: a script waiting for this line must see it now.
                FileHandle.standardOutput.write(Data("mv serve: listening on \(address)\n".utf8))
            }
        }).value()
        ServeLog.line("stopped")
    }
}

/// The server's log: one time-stamped line per event on stderr.
enum ServeLog {
    @Sendable static func line(_ message: String) {
        let stamp = Date().formatted(.iso8601.time(includingFractionalSeconds: true))
        FileHandle.standardError.write(Data("mv serve \(stamp): \(message)\n".utf8))
    }
}

/// A size in bytes, typed as 16777216, 16M, 512k or 1G.
struct ByteCount: ExpressibleByArgument {
    let bytes: Int

    init(_ bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces)
        let units: [Character: Int] = ["k": 1 << 10, "K": 1 << 10, "m": 1 << 20, "M": 1 << 20, "g": 1 << 30, "G": 1 << 30]
        var digits = Substring(text)
        var scale = 1
        if let last = text.last, let unit = units[last] {
            scale = unit
            digits = digits.dropLast()
        }
        if digits.hasSuffix("i") || digits.hasSuffix("B") { return nil }
        guard let value = Int(digits), value > 0, value <= Int.max / scale else { return nil }
        bytes = value * scale
    }

    var defaultValueDescription: String {
        for (unit, size) in [("G", 1 << 30), ("M", 1 << 20), ("k", 1 << 10)] where bytes % size == 0 {
            return "\(bytes / size)\(unit)"
        }
        return "\(bytes)"
    }
}

/// A duration typed as 30s, 5m, 1h, 500ms or plain seconds.
struct Seconds: ExpressibleByArgument {
    let value: Double

    init(_ value: Double) { self.value = value }

    init?(argument: String) {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = argument
        var scale = 1.0
        for (suffix, factor) in units where argument.hasSuffix(suffix) {
            number = String(argument.dropLast(suffix.count))
            scale = factor
            break
        }
        guard let parsed = Double(number), parsed > 0, parsed.isFinite else { return nil }
        value = parsed * scale
    }

    var defaultValueDescription: String { "30s" }
}
