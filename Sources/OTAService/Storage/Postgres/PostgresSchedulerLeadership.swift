import Logging
import PostgresNIO
import Synchronization

// The scheduler's leader is the instance whose session holds a PostgreSQL advisory lock. A session lock lives as
// long as the connection: a leader that is killed, or cut off from the database, loses it with its connection, and
// the next instance to ask gets it (within one tick interval). The leader checks its connection before each tick,
// so an instance cut off stops ticking instead of ticking on a lock it no longer holds; should two ever tick at
// once, nothing breaks, since every tick is one serialized write transaction. Only a cost would double.

final class PostgresSchedulerLeadership: SchedulerLeadership {
    private let pool: PostgresConnectionPool
    private let logger: Logger
    /// The session that asks for the lock, and whether it holds it.
    private let session = Mutex<(connection: PostgresConnection?, leading: Bool)>((nil, false))

    init(pool: PostgresConnectionPool, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }

    func lead() async -> Bool {
        let (kept, leading) = session.withLock { $0 }
        do {
            let connection: PostgresConnection
            if let kept { connection = kept } else { connection = try await pool.connectDedicated() }
            session.withLock { $0.connection = connection }
            if leading {
                _ = try await connection.query("SELECT 1", logger: logger)
                return true
            }
            let key = PostgresSchema.schedulerLockKey
            var won = false
            let rows = try await connection.query("SELECT pg_try_advisory_lock(\(key))", logger: logger)
            for try await acquired in rows.decode(Bool.self) { won = acquired }
            if won {
                session.withLock { $0.leading = true }
                logger.info("scheduler: this instance now runs the rollouts")
            }
            return won
        } catch {
            if leading { logger.warning("scheduler: lost the database connection; no longer the leader") }
            let broken = session.withLock { session in
                defer { session = (nil, false) }
                return session.connection
            }
            try? await broken?.close()
            return false
        }
    }

    var isLeading: Bool { session.withLock { $0.leading } }

    func resign() async {
        let connection = session.withLock { session in
            defer { session = (nil, false) }
            return session.connection
        }
        try? await connection?.close()
    }
}
