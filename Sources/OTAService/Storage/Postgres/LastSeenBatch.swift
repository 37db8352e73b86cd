import Synchronization

// Last-seen writes on PostgreSQL, gathered: a fleet rebooting into a new image reconnects all at once, and each
// device's last-seen time was an UPDATE of its own, a round trip and a WAL commit each. Now the writes that arrive
// while one statement is on its way go together in the next one (one UPDATE over unnest'ed arrays), and each caller
// returns once the statement that carried its write has committed. No timer: a lone write goes at once.

final class LastSeenBatch: Sendable {
    struct Seen: Sendable {
        let thing: String
        let time: Int64
        /// The write is skipped when the stored time is less than this many seconds older.
        let interval: Int64
    }

    /// Writes one batch (each thing once) in one statement.
    typealias Write = @Sendable ([Seen]) async throws -> Void

    private struct Waiting {
        let seen: Seen
        let done: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var writing = false
    }

    private let state = Mutex(State())
    private let write: Write

    init(write: @escaping Write) {
        self.write = write
    }

    /// Returns once `seen` is written (or skipped by its interval), with the batch it went in.
    func record(_ seen: Seen) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            let starts = state.withLock { state in
                state.waiting.append(Waiting(seen: seen, done: done))
                defer { state.writing = true }
                return !state.writing
            }
            if starts { Task { await self.drain() } }
        }
    }

    /// Writes what waits, batch after batch, until nothing does.
    private func drain() async {
        while true {
            let batch = state.withLock { state in
                defer { state.waiting = [] }
                if state.waiting.isEmpty { state.writing = false }
                return state.waiting
            }
            guard !batch.isEmpty else { return }
            do {
                try await write(Self.latestPerThing(batch.map(\.seen)))
                for waiting in batch { waiting.done.resume() }
            } catch {
                for waiting in batch { waiting.done.resume(throwing: error) }
            }
        }
    }

    /// A thing seen twice in one batch is written once, with its later time (one row may match one source row of
    /// an UPDATE … FROM).
    static func latestPerThing(_ seen: [Seen]) -> [Seen] {
        var latest: [String: Seen] = [:]
        var order: [String] = []
        for entry in seen {
            if let known = latest[entry.thing] {
                if entry.time > known.time { latest[entry.thing] = entry }
            } else {
                latest[entry.thing] = entry
                order.append(entry.thing)
            }
        }
        return order.map { latest[$0]! }
    }
}
