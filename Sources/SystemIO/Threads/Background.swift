import Foundation

/// Work started on its own thread now and waited for later, its error rethrown by `value()`.
/// For file work that needs no libgit2 handle (those stay on the thread that opened them).
public final class Background<Value>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<Value, Error>?

    /// Starts `work` on a new thread.
    public init(_ work: @escaping @Sendable () throws -> Value) {
        Thread.detachNewThread { [self] in finish(Result { try work() }) }
    }

    /// Starts async `work` as a task, for a thread (not a task) to wait for: the CLI's main
    /// thread, or a thread of its own.
    public init(async work: @escaping @Sendable () async throws -> Value) where Value: Sendable {
        Task { [self] in
            do { finish(.success(try await work())) } catch { finish(.failure(error)) }
        }
    }

    /// Already finished with `result`, nothing started.
    public init(finished result: Result<Value, Error>) {
        self.result = result
    }

    private func finish(_ outcome: Result<Value, Error>) {
        condition.lock()
        result = outcome
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for the work to end and returns its outcome.
    public func wait() -> Result<Value, Error> {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let result { return result }
            condition.wait()
        }
    }

    public func value() throws -> Value { try wait().get() }

    /// The outcome if the work ends within `seconds`, else nil (the work goes on).
    public func wait(atMost seconds: Double) -> Result<Value, Error>? {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while result == nil, condition.wait(until: deadline) {}
        return result
    }
}
