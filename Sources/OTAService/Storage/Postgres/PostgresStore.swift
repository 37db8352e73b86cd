import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

// PostgreSQL through PostgresNIO, for several `ota serve` instances sharing one database.
//
// The storage contract takes synchronous closures (OTAStore.swift). Each transaction borrows a pooled connection
// and runs its closure on a dispatch thread (BlockingWork.swift), where each statement waits for its answer. BEGIN
// and the locks go out with the body's first read, so that thread wakes once for the three (a device's report was
// five wake-ups: BEGIN, locks, read, write, COMMIT).
//
// Isolation: a read is one REPEATABLE READ snapshot, as a SQLite read is. A write first takes a transaction-level
// advisory lock that every writer of every instance shares, so writes are serialized exactly as SQLite serializes
// them: the engine's read-decide-write steps (release the next targets, count outcomes for an abort, cancel a
// job) never interleave with another instance's, and the version column guards each execution besides. A device's
// own report changes only its thing's records: it holds that lock shared and its thing's lock alone, so the reports
// of a fleet commit side by side (one at a time they were the bottleneck: a rollout to 1,000 devices queued them
// for longer than a rebooted device waits for its self-test job). Reports that arrive together commit together
// (GroupCommit.swift), under the locks of all their things. `ota bench fleet --database` measures it.

public final class PostgresStore: OTAStore {
    public let url: PostgresDatabaseURL
    let pool: PostgresConnectionPool
    private let logger: Logger
    private let transactions = Atomic<Int>(0)
    let reports: GroupCommit<any StoreWriter>
    let lastSeen: BatchesWhileBusy<LastSeenBatch.Seen>

    /// Transactions this store has run since it opened, each one round of BEGIN … COMMIT (the fleet bench divides
    /// them by the blocks delivered).
    public var transactionCount: Int { transactions.load(ordering: .relaxed) }
    public var databaseTransactions: Int? { transactionCount }
    /// Statements sent, each a round trip (PostgresNIO sends a connection's statements one after another).
    public var databaseStatements: Int? { statements.count }
    let statements = PostgresTransaction.StatementCounter()

    /// Connects lazily: `prepare()` (called by `ota serve` before it serves) applies the migrations.
    public init(url: PostgresDatabaseURL, maximumConnections: Int = 8, logger: Logger) throws {
        self.url = url
        self.logger = logger
        pool = try PostgresConnectionPool(url: url, maximumConnections: maximumConnections, logger: logger)
        let reference = StoreReference()
        reports = Self.groupCommit { reference.store }
        lastSeen = BatchesWhileBusy { batch in
            guard let store = reference.store else { throw StoreError.unavailable("the store is closed") }
            try await store.writeSeen(LastSeenBatch.latestPerThing(batch))
        }
        reference.store = self
    }

    /// The group commit's way back to the store, without keeping it alive; set once in `init`, only read after.
    private final class StoreReference: @unchecked Sendable {
        weak var store: PostgresStore?
    }

    public func prepare() async throws {
        try await pool.withConnection { connection in
            try await BlockingWork.run { try PostgresSchema.migrate(connection, logger: self.logger) }
        }
    }

    public func close() async {
        await pool.close()
    }

    /// Most reads are one lookup, and PostgreSQL runs each statement on a snapshot of its own: a read is first tried
    /// as that one statement, without BEGIN and COMMIT (two round trips of three). A body that asks for a second
    /// statement is stopped and runs again, from the start, in a REPEATABLE READ transaction; what it did in the
    /// first try is thrown away, even if it caught the refusal.
    public func read<T: Sendable>(_ body: @Sendable (any StoreReader) throws -> T) async throws -> T {
        do {
            return try await transaction(.singleStatement) { try body($0) }
        } catch is PostgresTransaction.StatementLimitReached {
            return try await transaction(.snapshot) { try body($0) }
        }
    }

    public func write<T: Sendable>(_ body: @Sendable (any StoreWriter) throws -> T) async throws -> T {
        try await transaction(.serializedWrite) { try body($0) }
    }

    public func write<T: Sendable>(
        thing: String, progress: ProgressReport?, _ body: @Sendable (any StoreWriter) throws -> T
    ) async throws -> T {
        try await reports.write(thing: thing, progress: progress, body)
    }

    public var reportCommits: ReportCommitCounts { reports.committed }

    /// Held progress reports (JobEngine+HeldProgress.swift) in rounds of at most `progressRound`, each thing once a
    /// round: each round one statement that takes its things' locks itself (`recordProgressFirst`), one round trip.
    public func recordProgress(_ progress: [ProgressReport]) async throws -> [JobExecution?] {
        var results = [JobExecution?](repeating: nil, count: progress.count)
        var rest = Array(progress.indices)
        while !rest.isEmpty {
            var round: [Int] = []
            var later: [Int] = []
            var things: Set<String> = []
            for index in rest {
                if round.count < Self.progressRound, things.insert(progress[index].thing).inserted {
                    round.append(index)
                } else {
                    later.append(index)
                }
            }
            let batch = round.map { progress[$0] }
            let recorded = try await transaction(.autocommit) { transaction in
                try transaction.recordProgressFirst(
                    batch, locks: TransactionKind.ThingLocks(things: batch.map(\.thing)))
            }
            for (index, result) in zip(round, recorded) { results[index] = result }
            reports.countCommitted(reports: batch.count)
            rest = later
        }
        return results
    }

    /// Each thing's advisory lock is held until the statement ends: rounds stay small enough not to fill the
    /// server's lock table (`max_locks_per_transaction` × connections) or to hold many devices' writes at once.
    static let progressRound = 128

    /// Gathered with the other things' writes that come meanwhile (LastSeenBatch.swift), one statement per batch.
    public func recordSeen(thing: String, at time: Int64, interval: Int64) async throws {
        try await lastSeen.submit(LastSeenBatch.Seen(thing: thing, time: time, interval: interval))
    }

    /// One statement, a transaction by itself: BEGIN, the things' locks, a read, an upsert and COMMIT were five per
    /// device, paid by every device that came back from a reboot on another instance than before. It takes no advisory
    /// lock: it changes one column of its rows, which PostgreSQL's row locks keep whole, and a registry write that
    /// read a thing before and saves it after can at worst put back the previous last-seen time, which the device's
    /// next connection corrects.
    private func writeSeen(_ batch: [LastSeenBatch.Seen]) async throws {
        _ = try await transaction(.autocommit) { transaction in
            try transaction.run(
                #"""
                UPDATE "thing" AS t SET "lastSeenAt" = v.at::int8
                FROM unnest($1::text[], $2::text[], $3::text[]) AS v(name, at, skip)
                WHERE t."name" = v.name AND (t."lastSeenAt" IS NULL OR t."lastSeenAt" <= v.at::int8 - v.skip::int8)
                """#,
                [
                    .textArray(batch.map(\.thing)), .textArray(batch.map { String($0.time) }),
                    .textArray(batch.map { String($0.interval) }),
                ])
        }
    }

    /// Reports that arrive together commit together (GroupCommit.swift). Four batches at once at most, half the
    /// pool: the rest serves reads and the writes of everything.
    ///
    /// Most reports are plain progress, and most batches nothing else. Each thing's first such report in a batch is
    /// recorded before any body runs, all of them in one statement that is its own transaction and takes their things'
    /// locks itself (`recordProgressFirst`): one round trip where BEGIN, the locks, the report and COMMIT were four.
    /// Then each of those bodies runs with its recorded result at hand and may send nothing more; a body that wants
    /// more (or a report that found its execution not in progress, which changed nothing) runs with the rest of the
    /// batch in one transaction, where what was recorded for it is still its answer — "nothing changed" included, so
    /// the body goes straight to its checked path instead of trying the same UPDATE again (a device's first report,
    /// on its QUEUED execution, is such a one). The storage contract allows this: with `progress`, the body's first
    /// store call is `recordProgress(progress)` (OTAStore.swift).
    ///
    /// The rest is one transaction, the locks of all its things in one statement, first run without savepoints: a
    /// SAVEPOINT is a round trip of its own, as many as the reports, and almost every report either succeeds or is
    /// refused by the engine's checks before it changed anything — either way there is nothing of its own to undo.
    /// Only when an entry threw after it may have changed something, or a statement failed (which aborts the whole
    /// transaction), is that try rolled back and the batch run again with each entry in a savepoint, so that the
    /// entry's failure undoes only its own changes. At most 32 reports a batch: PostgreSQL tracks 64
    /// subtransactions per transaction in shared memory and beyond that slows every snapshot.
    private static func groupCommit(for store: @escaping @Sendable () -> PostgresStore?) -> GroupCommit<any StoreWriter>
    {
        GroupCommit(lanes: 4, maximumBatch: 32) { entries in
            guard let store = store() else { throw StoreError.unavailable("the store is closed") }
            let first = try await store.recordProgressFirst(of: entries)
            let rest = entries.filter { !first.done.contains(ObjectIdentifier($0)) }
            guard !rest.isEmpty else { return }
            do {
                try await store.commitTogether(rest, recorded: first.recorded)
            } catch {
                // Nothing of the batch committed: it fails whole.
                if first.done.isEmpty && !first.recorded.contains(where: { $0.result != nil }) { throw error }
                // What was recorded first is committed: the rest fails, each with the error that stopped it.
                for entry in rest { entry.fail(error) }
            }
        }
    }

    private typealias Entry = GroupCommit<any StoreWriter>.Entry

    /// Records each thing's first plain progress report of the batch in one statement, then runs those entries'
    /// bodies, which may only take what was recorded. Returns the entries that are done, and what was recorded for
    /// the ones that must run again with the rest (nil: the report changed nothing). A statement the server refused
    /// changed nothing: then no entry is done and the whole batch runs in one transaction. A connection lost while it
    /// ran may have committed it, as with a lost COMMIT: that fails the batch rather than record the reports twice (a
    /// device's retry records its report again).
    private func recordProgressFirst(
        of entries: [Entry]
    ) async throws -> (done: Set<ObjectIdentifier>, recorded: [(report: ProgressReport, result: JobExecution?)]) {
        let firsts = Self.firstProgressReports(of: entries)
        guard !firsts.isEmpty else { return ([], []) }
        let outcome = try await transaction(.autocommit) {
            transaction -> (Set<ObjectIdentifier>, [(ProgressReport, JobExecution?)])? in
            let results: [JobExecution?]
            do {
                results = try transaction.recordProgressFirst(
                    firsts.map(\.report), locks: TransactionKind.ThingLocks(things: firsts.map(\.entry.thing)))
            } catch {
                // Refused by the server, the statement changed nothing: the batch runs as a whole. A lost connection
                // may have committed it, and rows that do not decode were committed: those fail the batch.
                guard transaction.effects.refusedByServer else { throw error }
                return nil
            }
            // The bodies may take what was recorded, and send nothing.
            transaction.effects.limit = transaction.effects.statements
            var done: Set<ObjectIdentifier> = []
            var recorded: [(ProgressReport, JobExecution?)] = []
            for ((entry, report), result) in zip(firsts, results) {
                // Nothing changed for it: it runs with the rest, told so. Whatever changed the execution since, the
                // checked path reads it under the thing's lock and decides as a plain report would have.
                guard let result else {
                    recorded.append((report, nil))
                    continue
                }
                let refusals = transaction.effects.refusals
                try? entry.run(transaction)
                if transaction.effects.refusals == refusals {
                    done.insert(ObjectIdentifier(entry))
                } else {
                    recorded.append((report, result))
                }
            }
            return (done, recorded)
        }
        return outcome ?? ([], [])
    }

    /// Each thing's first entry, when it names a progress report of its own. A thing's later entries wait for their
    /// turn, so none is recorded before an earlier one of its own; other things' entries in between change only
    /// their own records.
    private static func firstProgressReports(of entries: [Entry]) -> [(entry: Entry, report: ProgressReport)] {
        var seen: Set<String> = []
        return entries.compactMap { entry in
            defer { seen.insert(entry.thing) }
            guard !seen.contains(entry.thing), let progress = entry.progress, progress.thing == entry.thing else {
                return nil
            }
            return (entry, progress)
        }
    }

    /// Runs `entries` in one transaction, first without savepoints, then with them when an entry must be undone
    /// alone. `recorded`: progress already committed for some of them, handed to their bodies when they ask.
    private func commitTogether(
        _ entries: [Entry], recorded: [(report: ProgressReport, result: JobExecution?)]
    ) async throws {
        var things: [String] = []
        for entry in entries where !things.contains(entry.thing) { things.append(entry.thing) }
        do {
            try await transaction(.thingWrites(things)) { transaction in
                transaction.recordedProgress.stash(recorded)
                for entry in entries {
                    let changesBefore = transaction.effects.changes
                    do {
                        try entry.run(transaction)
                    } catch {
                        guard transaction.effects.changes == changesBefore else { throw NeedsSavepoints() }
                    }
                    // A failed statement aborted the transaction, also when its entry caught the error.
                    if transaction.effects.anyFailed { throw NeedsSavepoints() }
                }
            }
        } catch is NeedsSavepoints {
            try await transaction(.thingWrites(things)) { transaction in
                transaction.recordedProgress.stash(recorded)
                for entry in entries { try? transaction.inSavepoint { try entry.run(transaction) } }
            }
        }
    }

    /// A batch's entry threw with changes of its own to undo: the batch runs again with savepoints.
    private struct NeedsSavepoints: Error {}

    enum TransactionKind {
        /// A consistent read-only view.
        case snapshot
        /// A state change, one writer at a time across instances.
        case serializedWrite
        /// Changes to these things' records only: beside other things' such writes, never beside a serialized one.
        case thingWrites([String])
        /// A write that touches no engine state (file contents): it does not hold up the writers.
        case independentWrite
        /// Statements each on its own, with no transaction around them (cluster notifications: nothing to keep
        /// together, and BEGIN and COMMIT would triple their round trips).
        case autocommit
        /// One statement on its own, a consistent snapshot by itself; a second is refused (`read`).
        case singleStatement

        /// What the transaction opens with, sent with its first statement (PostgresTransaction.run).
        var opening: [PostgresQuery] {
            // Writes say READ COMMITTED rather than trust the server's default: their locks come first, and a
            // snapshot taken before the wait (REPEATABLE READ) would not see what the lock holder committed.
            let beginWrite = PostgresTransaction.query("BEGIN ISOLATION LEVEL READ COMMITTED")
            switch self {
            case .snapshot:
                return [PostgresTransaction.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")]
            case .serializedWrite:
                return [
                    beginWrite,
                    PostgresTransaction.query(
                        "SELECT pg_advisory_xact_lock($1)", [.integer(PostgresSchema.writeLockKey)]),
                ]
            case .thingWrites(let things):
                let locks = ThingLocks(things: things)
                return [
                    beginWrite,
                    PostgresTransaction.query("SELECT " + locks.selectList(firstParameter: 1), locks.values),
                ]
            case .independentWrite:
                return [beginWrite]
            case .autocommit, .singleStatement:
                return []
            }
        }

        var isSingleStatement: Bool {
            if case .singleStatement = self { return true }
            return false
        }

        /// The locks a write to these things holds: the write lock shared (serialized writers wait for these and
        /// these for them), and each thing's own lock alone (two-key form: a key space apart from the one-key locks),
        /// in ascending key order on every instance so that two batches never wait for each other crosswise.
        /// PostgreSQL evaluates a select list left to right.
        struct ThingLocks {
            let keys: [Int64]

            init(things: [String]) { keys = Set(things.map(PostgresSchema.thingLockKey)).sorted() }

            /// The select list that takes them, its parameters numbered from `first` (`values`, in order).
            func selectList(firstParameter first: Int) -> String {
                (["pg_advisory_xact_lock_shared($\(first))"]
                    + keys.indices.map { "pg_advisory_xact_lock($\(first + 1)::int4, $\(first + 2 + $0)::int4)" })
                    .joined(separator: ", ")
            }

            var values: [PostgresColumnValue] {
                [.integer(PostgresSchema.writeLockKey), .integer(PostgresSchema.thingLockClass)]
                    + keys.map { .integer($0) }
            }
        }
    }

    func transaction<T: Sendable>(
        _ kind: TransactionKind, _ body: @Sendable (PostgresTransaction) throws -> T
    ) async throws -> T {
        let logger = logger
        transactions.add(1, ordering: .relaxed)
        return try await pool.withConnection { connection in
            try await BlockingWork.run {
                let opening = kind.opening
                let transaction = PostgresTransaction(
                    connection: connection, logger: logger, opening: opening,
                    statementLimit: kind.isSingleStatement ? 1 : nil, counter: statements)
                do {
                    let result = try body(transaction)
                    // A body that caught the refusal of its second statement went on without it: its result is void.
                    if kind.isSingleStatement && transaction.effects.refusals > 0 {
                        throw PostgresTransaction.StatementLimitReached()
                    }
                    // A body that sent nothing never opened the transaction.
                    if !opening.isEmpty && transaction.held.opened {
                        // COMMIT of a transaction that failed along the way answers ROLLBACK, not an error.
                        let commit = try transaction.run("COMMIT")
                        guard commit.metadata.command == "COMMIT" else {
                            throw StoreError.conflict("the transaction was rolled back: \(commit.metadata.command)")
                        }
                    }
                    return result
                } catch {
                    // A broken connection cannot roll back; the server already has. Closed here (the channel, at
                    // once) so that the pool, which drops closed connections, never lends it again.
                    if transaction.effects.connectionLost {
                        _ = try? connection.close().wait()
                    } else if !opening.isEmpty && transaction.held.opened {
                        transaction.held.discard()
                        _ = try? transaction.run("ROLLBACK")
                    }
                    if kind.isSingleStatement && transaction.effects.refusals > 0 {
                        throw PostgresTransaction.StatementLimitReached()
                    }
                    throw error
                }
            }
        }
    }
}

extension PostgresSchema {
    /// Applies the migrations this database lacks, in one transaction under the migration lock.
    static func migrate(_ connection: PostgresConnection, logger: Logger) throws {
        let transaction = PostgresTransaction(connection: connection, logger: logger)
        try transaction.run("BEGIN")
        do {
            try transaction.run("SELECT pg_advisory_xact_lock($1)", [.integer(migrationLockKey)])
            try transaction.run(createMigrationTable)
            let applied = Set(try transaction.strings(#"SELECT "id" FROM "schemaMigration""#))
            for migration in migrations where !applied.contains(migration.id) {
                for statement in migration.statements { try transaction.run(statement) }
                try transaction.run(#"INSERT INTO "schemaMigration" ("id") VALUES ($1)"#, [.text(migration.id)])
                logger.info("database migrated", metadata: ["migration": "\(migration.id)"])
            }
            try transaction.run("COMMIT")
        } catch {
            _ = try? transaction.run("ROLLBACK")
            throw error
        }
    }
}
