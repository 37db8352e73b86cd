import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

// PostgreSQL through PostgresNIO, for several `ota serve` instances sharing one database.
//
// The storage contract takes synchronous closures (OTAStore.swift). Each transaction borrows a pooled connection
// and runs its closure on a dispatch thread (BlockingWork.swift), where each statement waits for its answer.
//
// Isolation: a read is one REPEATABLE READ snapshot, as a SQLite read is. A write first takes a transaction-level
// advisory lock that every writer of every instance shares, so writes are serialized exactly as SQLite serializes
// them: the engine's read-decide-write steps (release the next targets, count outcomes for an abort, move an
// execution) never interleave with another instance's, and the version column guards each execution besides. The
// price is one writer at a time across the cluster; `ota bench fleet --database` measures it.

public final class PostgresStore: OTAStore {
    public let url: PostgresDatabaseURL
    let pool: PostgresConnectionPool
    private let logger: Logger
    private let transactions = Atomic<Int>(0)

    /// Transactions this store has run since it opened, each one round of BEGIN … COMMIT (the fleet bench divides
    /// them by the blocks delivered).
    public var transactionCount: Int { transactions.load(ordering: .relaxed) }

    /// Connects lazily: `prepare()` (called by `ota serve` before it serves) applies the migrations.
    public init(url: PostgresDatabaseURL, maximumConnections: Int = 8, logger: Logger) throws {
        self.url = url
        self.logger = logger
        pool = try PostgresConnectionPool(url: url, maximumConnections: maximumConnections, logger: logger)
    }

    public func prepare() async throws {
        try await pool.withConnection { connection in
            try await BlockingWork.run { try PostgresSchema.migrate(connection, logger: self.logger) }
        }
    }

    public func close() async {
        await pool.close()
    }

    public func read<T: Sendable>(_ body: @Sendable (any StoreReader) throws -> T) async throws -> T {
        try await transaction(.snapshot) { try body($0) }
    }

    public func write<T: Sendable>(_ body: @Sendable (any StoreWriter) throws -> T) async throws -> T {
        try await transaction(.serializedWrite) { try body($0) }
    }

    enum TransactionKind {
        /// A consistent read-only view.
        case snapshot
        /// A state change, one writer at a time across instances.
        case serializedWrite
        /// A write that touches no engine state (file contents): it does not hold up the writers.
        case independentWrite
    }

    func transaction<T: Sendable>(
        _ kind: TransactionKind, _ body: @Sendable (PostgresTransaction) throws -> T
    ) async throws -> T {
        let logger = logger
        transactions.add(1, ordering: .relaxed)
        return try await pool.withConnection { connection in
            try await BlockingWork.run {
                let transaction = PostgresTransaction(connection: connection, logger: logger)
                try transaction.run(kind == .snapshot ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN")
                do {
                    if kind == .serializedWrite {
                        try transaction.run("SELECT pg_advisory_xact_lock($1)", [.integer(PostgresSchema.writeLockKey)])
                    }
                    let result = try body(transaction)
                    try transaction.run("COMMIT")
                    return result
                } catch {
                    // A broken connection cannot roll back; the server already has, and the pool drops it.
                    _ = try? transaction.run("ROLLBACK")
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
