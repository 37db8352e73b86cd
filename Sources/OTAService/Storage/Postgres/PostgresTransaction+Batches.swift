// The store's calls for many things at once (StoreBatches.swift), each one statement: a release to 10,000 things
// is four round trips, not 50,000 under the write lock.

extension PostgresTransaction {
    func executions(things: [String]) throws -> [String: [JobExecution]] {
        var latest: [String: [JobExecution]] = [:]
        for thing in things { latest[thing] = [] }
        guard !things.isEmpty else { return latest }
        let rows = try records(
            JobExecution.self,
            """
            SELECT DISTINCT ON ("thingName", "jobID") * FROM "jobExecution" WHERE "thingName" = ANY($1::text[])
            ORDER BY "thingName", "jobID", "executionNumber" DESC
            """, [.textArray(things)])
        for row in rows.sorted(by: { $0.sequence < $1.sequence }) { latest[row.thingName, default: []].append(row) }
        return latest
    }

    func insert(_ executions: [JobExecution]) throws -> [JobExecution] {
        guard !executions.isEmpty else { return [] }
        // Text arrays, absent numbers as "" (no number's text is empty); details, which may be any text, beside a
        // column that says whether there are any.
        func column(_ value: (JobExecution) -> String?) -> PostgresColumnValue {
            .textArray(executions.map { value($0) ?? "" })
        }
        let result = try run(
            """
            INSERT INTO "jobExecution" ("jobID", "thingName", "executionNumber", "status", "statusDetails",
              "queuedAt", "startedAt", "lastUpdatedAt", "versionNumber", "timeoutAt")
            SELECT job, thing, number::int8, status, CASE WHEN "hasDetails" = 'y' THEN details END, queued::int8,
              NULLIF(started, '')::int8, updated::int8, version::int8, NULLIF(timeout, '')::int8
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
              $8::text[], $9::text[], $10::text[], $11::text[]) WITH ORDINALITY
              AS r(job, thing, number, status, details, queued, started, updated, version, timeout, "hasDetails", n)
            ORDER BY n
            RETURNING "jobID", "thingName", "executionNumber", "sequence"
            """,
            [
                column(\.jobID), column(\.thingName), column { String($0.executionNumber) }, column(\.status.rawValue),
                column(\.statusDetails), column { String($0.queuedAt) }, column { $0.startedAt.map(String.init) },
                column { String($0.lastUpdatedAt) }, column { String($0.versionNumber) },
                column { $0.timeoutAt.map(String.init) }, column { $0.statusDetails == nil ? "" : "y" },
            ])
        func key(_ jobID: String, _ thing: String, _ number: Int64) -> String { "\(jobID)\u{0}\(thing)\u{0}\(number)" }
        var sequences: [String: Int64] = [:]
        for row in result.rows {
            let (jobID, thing, number, sequence) = try row.decode((String, String, Int64, Int64).self)
            sequences[key(jobID, thing, number)] = sequence
        }
        return try executions.map { execution in
            guard let sequence = sequences[key(execution.jobID, execution.thingName, execution.executionNumber)] else {
                throw StoreError.corrupt("jobExecution insert returned no sequence for \(execution.thingName)")
            }
            var stored = execution
            stored.sequence = sequence
            return stored
        }
    }

    func removePendingTargets(jobID: String, things: [String]) throws {
        guard !things.isEmpty else { return }
        try run(
            #"DELETE FROM "pendingTarget" WHERE "jobID" = $1 AND "thingName" = ANY($2::text[])"#,
            [.text(jobID), .textArray(things)])
    }
}
