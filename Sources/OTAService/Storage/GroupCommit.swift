import Synchronization

// Group commit for the writes a device's reports make (OTAStore.write(thing:)). A fleet's reports arrive by the
// hundred a second and each changes one row; committed one by one, each pays a transaction: on SQLite a WAL commit
// and its fsync, on PostgreSQL BEGIN, the locks and COMMIT as round trips and a store thread's sleeps. Here the
// writes that arrive while earlier ones are being committed wait and then go together, in one transaction, each in
// a savepoint of its own (PostgresStore first tries without, and runs the batch again with them only when a body
// must be undone; it also records plain progress reports first, in a statement of their own): one body's failure
// undoes only its own changes, and every caller returns once the commit that holds its change is done (or with
// the error that stopped it). Under light load a batch is one write, with
// no added wait; under heavy load batches grow up to `maximumBatch`.
//
// Order: a thing's writes run in the order they were submitted, never two in flight at once (a thing with a
// write in a running batch waits for the next batch, and everything of that thing queued after it waits too).

final class GroupCommit<Writer>: Sendable {
    /// One submitted write, as the backend runs it inside the batch's transaction.
    final class Entry: @unchecked Sendable {
        let thing: String
        /// The progress report the body records first, when it said so (OTAStore.write(thing:progress:)).
        let progress: ProgressReport?
        /// The body, lent for the batch: cleared before its caller resumes (the caller's closure is non-escaping).
        private var body: ((Writer) throws -> Void)?
        /// The body's error, or the batch's: what the caller throws.
        fileprivate var failure: (any Error)?
        fileprivate var done: CheckedContinuation<Void, Never>?

        fileprivate init(thing: String, progress: ProgressReport?, body: @escaping (Writer) throws -> Void) {
            self.thing = thing
            self.progress = progress
            self.body = body
        }

        /// Runs the caller's body against the batch's transaction. A throw means the backend must undo this entry's
        /// changes (roll back to its savepoint; a progress report PostgreSQL recorded for it first stands) and go on
        /// with the next; the caller gets the error. A backend may run
        /// a batch again after rolling back a try of it (PostgresStore runs it first without savepoints): the last
        /// run's outcome is the one the caller gets.
        func run(_ writer: Writer) throws {
            failure = nil
            do {
                try body!(writer)
            } catch {
                failure = error
                throw error
            }
        }

        /// Fails this entry alone: the backend committed other entries of its batch before this one's part failed.
        func fail(_ error: any Error) { failure = error }

        fileprivate func finish(batchFailure: (any Error)?) -> CheckedContinuation<Void, Never> {
            body = nil
            if failure == nil { failure = batchFailure }
            return done!
        }
    }

    /// Commits a batch: one transaction holding every entry's thing, each entry run in order, a throwing entry's
    /// changes undone alone (a savepoint each; PostgresStore first tries without and runs again with them if needed).
    /// Throwing fails every entry of the batch (nothing of it was committed).
    typealias Commit = @Sendable (_ entries: [Entry]) async throws -> Void

    /// What was committed (status, metrics, the fleet bench's figures).
    var committed: ReportCommitCounts { counts.withLock { $0 } }
    /// Counts reports its owner committed together by another way (held progress: OTAStore.recordProgress).
    func countCommitted(reports: Int) {
        counts.withLock { counts in
            counts.batches += 1
            counts.reports += reports
        }
    }

    /// Entries waiting for a batch.
    var queued: Int { state.withLock { $0.queue.count } }

    private struct State {
        var queue: [Entry] = []
        var runningBatches = 0
        /// Things with writes in a running batch (never in two at once).
        var busy: Set<String> = []
    }

    private let state = Mutex(State())
    private let counts = Mutex(ReportCommitCounts())
    private let lanes: Int
    private let maximumBatch: Int
    private let commit: Commit

    /// `lanes`: batches committed at once (1 where the database has one writer anyway).
    init(lanes: Int, maximumBatch: Int, commit: @escaping Commit) {
        precondition(lanes > 0 && maximumBatch > 0)
        self.lanes = lanes
        self.maximumBatch = maximumBatch
        self.commit = commit
    }

    func write<T: Sendable>(
        thing: String, progress: ProgressReport? = nil, _ body: @Sendable (Writer) throws -> T
    ) async throws -> T {
        try await withoutActuallyEscaping(body) { body in
            let value = Slot<T>()
            let entry = Entry(thing: thing, progress: progress) { writer in value.stored = try body(writer) }
            await withCheckedContinuation { done in
                entry.done = done
                submit(entry)
            }
            if let failure = entry.failure { throw failure }
            return value.stored!
        }
    }

    private func submit(_ entry: Entry) {
        let batch = state.withLock { state -> [Entry]? in
            state.queue.append(entry)
            guard state.runningBatches < lanes else { return nil }
            return Self.takeBatch(from: &state, limit: maximumBatch)
        }
        if let batch { Task { await self.runBatches(starting: batch) } }
    }

    /// Commits `batch`, then the next one the queue holds, until there is none this lane may take.
    private func runBatches(starting first: [Entry]) async {
        var batch = first
        while !batch.isEmpty {
            var things: [String] = []
            for entry in batch where !things.contains(entry.thing) { things.append(entry.thing) }
            var batchFailure: (any Error)?
            do {
                try await commit(batch)
                counts.withLock { counts in
                    counts.batches += 1
                    counts.reports += batch.count
                }
            } catch {
                batchFailure = error
            }
            let finished = batch
            batch = state.withLock { state in
                state.busy.subtract(things)
                state.runningBatches -= 1
                return Self.takeBatch(from: &state, limit: maximumBatch) ?? []
            }
            // Every caller's closure goes before any caller resumes (withoutActuallyEscaping checks none was kept).
            let callers = finished.map { $0.finish(batchFailure: batchFailure) }
            for caller in callers { caller.resume() }
        }
    }

    /// The next batch in submission order: the entries of things with no write in a running batch, at most `limit`;
    /// nil when there is none. Marks the batch running.
    private static func takeBatch(from state: inout State, limit: Int) -> [Entry]? {
        var batch: [Entry] = []
        var kept: [Entry] = []
        var held: Set<String> = []
        for entry in state.queue {
            if batch.count < limit && !state.busy.contains(entry.thing) && !held.contains(entry.thing) {
                batch.append(entry)
            } else {
                // A thing whose entry stays keeps every later entry of its own behind it (a thing already in the
                // batch takes its later entries too: they run after its earlier ones).
                held.insert(entry.thing)
                kept.append(entry)
            }
        }
        guard !batch.isEmpty else { return nil }
        state.queue = kept
        state.runningBatches += 1
        for entry in batch { state.busy.insert(entry.thing) }
        return batch
    }

    /// One caller's result, written by the batch's transaction and read by the caller after it resumed.
    private final class Slot<T>: @unchecked Sendable {
        var stored: T?
    }
}
