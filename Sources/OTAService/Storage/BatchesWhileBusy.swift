import Synchronization

// Work that arrives while a batch of it is being done waits, and goes together in the next batch. No timer: a lone
// item goes at once, and under load each batch carries what came during the one before. The cluster bus's
// announcements and PostgreSQL's last-seen writes go this way, each batch one statement, one round trip.

final class BatchesWhileBusy<Item: Sendable>: Sendable {
    /// Does one batch; an error fails the caller of each of its items.
    typealias Handle = @Sendable ([Item]) async throws -> Void

    private struct Waiting {
        let item: Item
        let done: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var busy = false
        var unfinished = 0
    }

    private let state = Mutex(State())
    private let handle: Handle

    init(handle: @escaping Handle) {
        self.handle = handle
    }

    /// Items submitted and not done yet: waiting, or in the batch under way.
    var unfinished: Int { state.withLock { $0.unfinished } }

    /// Returns once the batch `item` went in is done; throws that batch's error.
    func submit(_ item: Item) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            let starts = state.withLock { state in
                state.waiting.append(Waiting(item: item, done: done))
                state.unfinished += 1
                defer { state.busy = true }
                return !state.busy
            }
            if starts { Task { await self.drain() } }
        }
    }

    /// Does what waits, batch after batch, until nothing does.
    private func drain() async {
        while true {
            let batch = state.withLock { state in
                defer { state.waiting = [] }
                if state.waiting.isEmpty { state.busy = false }
                return state.waiting
            }
            guard !batch.isEmpty else { return }
            let outcome: Result<Void, any Error>
            do {
                try await handle(batch.map(\.item))
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            state.withLock { $0.unfinished -= batch.count }
            for waiting in batch { waiting.done.resume(with: outcome) }
        }
    }
}
