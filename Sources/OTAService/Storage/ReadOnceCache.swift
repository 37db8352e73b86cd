import Synchronization

// Records read from the store once and then kept, for those that never change once written (a stored file's
// record, a job's stream, a stream's record). Callers that miss together share one read: a rollout's devices all
// ask at the same moment for what nobody has read yet, and each of their reads would be a database round trip.

final class ReadOnceCache<Value: Sendable>: Sendable {
    private let values = Mutex<[String: Value]>([:])
    /// Reads under way, by key: a caller that misses while one runs waits for it rather than reading again.
    private let reads = Mutex<[String: Task<Value?, any Error>]>([:])

    /// The value, if it was read already (no suspension).
    func cached(_ key: String) -> Value? { values.withLock { $0[key] } }

    /// The value of `key`: kept, being read, or read now with `read`. A nil read (nothing there yet) is not kept.
    func value(of key: String, read: @escaping @Sendable () async throws -> Value?) async throws -> Value? {
        if let known = cached(key) { return known }
        let running = reads.withLock { reads in
            if let running = reads[key] { return running }
            let started = Task {
                // The value goes in before the read leaves: a later caller finds one or the other.
                defer { _ = self.reads.withLock { $0.removeValue(forKey: key) } }
                let value = try await read()
                if let value { self.values.withLock { $0[key] = value } }
                return value
            }
            reads[key] = started
            return started
        }
        return try await running.value
    }
}
