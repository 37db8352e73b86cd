// Store calls for many things at once: a rollout releases a job to thousands of things in one transaction, which
// holds the write lock that every device's report waits for. Where each statement is a round trip (PostgreSQL:
// PostgresTransaction+Batches.swift) each of these is one statement; SQLite, in process, runs them one by one, as
// defined here.

extension StoreReader {
    func executions(things: [String]) throws -> [String: [JobExecution]] {
        var latest: [String: [JobExecution]] = [:]
        for thing in things { latest[thing] = try executions(thing: thing) }
        return latest
    }
}

extension StoreWriter {
    func insert(_ executions: [JobExecution]) throws -> [JobExecution] {
        try executions.map { try insert($0) }
    }

    func removePendingTargets(jobID: String, things: [String]) throws {
        for thing in things { try removePendingTarget(jobID: jobID, thing: thing) }
    }
}
