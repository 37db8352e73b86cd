import Logging
import NIOCore
import OTAWire
import PostgresNIO
import Synchronization

/// One transaction's view: the reader and writer methods as SQL on one borrowed connection. Runs on a store thread,
/// where waiting for each answer is allowed (PostgresStore.swift).
struct PostgresTransaction: StoreWriter {
    let connection: PostgresConnection
    let logger: Logger
    /// Statements held back until the transaction's next statement of its own (its opening, savepoint commands).
    let held: HeldStatements
    /// What the statements sent so far did.
    let effects = Effects()
    /// Progress reports recorded before their entries' bodies ran (`recordProgressFirst`), each handed to the body
    /// that asks for it.
    let recordedProgress = RecordedProgress()
    /// Counts every statement sent, the held ones included (the store's figure for the fleet bench and /metrics).
    let counter: StatementCounter?

    init(
        connection: PostgresConnection, logger: Logger, opening: [PostgresQuery] = [], statementLimit: Int? = nil,
        counter: StatementCounter? = nil
    ) {
        self.connection = connection
        self.logger = logger
        self.held = HeldStatements(opening)
        self.counter = counter
        effects.limit = statementLimit
    }

    /// Statements sent through a store's transactions.
    final class StatementCounter: Sendable {
        private let sent = Atomic<Int>(0)
        var count: Int { sent.load(ordering: .relaxed) }
        func add(_ statements: Int) { sent.add(statements, ordering: .relaxed) }
    }

    /// Statements held back and handed to the connection together with the transaction's next statement. Every
    /// statement is a round trip to the server, and this thread sleeps through each one; statements handed over
    /// together follow one another on the connection's event loop while this thread waits once. First the opening
    /// (BEGIN, the locks): a transaction whose body sends nothing never opens at all. Later the savepoint commands
    /// around the entries of a group commit (`inSavepoint`), which cost no round trip of their own.
    final class HeldStatements {
        private var held: [PostgresQuery]
        /// Whether the opening statements went out: the transaction is open and ends with COMMIT or ROLLBACK.
        private(set) var opened = false
        /// How many times held statements were handed over: unchanged across a body, the body sent nothing.
        private(set) var handovers = 0

        init(_ opening: [PostgresQuery]) { held = opening }

        /// The held statements, and whether they open the transaction.
        func take() -> (statements: [PostgresQuery], opening: Bool) {
            defer {
                held = []
                opened = true
                handovers += 1
            }
            return (held, !opened)
        }

        func hold(_ statement: PostgresQuery) { held.append(statement) }
        /// Takes back the last statement held (a savepoint around a body that sent nothing).
        func withdrawLast() { held.removeLast() }
        /// Forgets what is held (the transaction is being rolled back whole).
        func discard() { held = [] }
    }

    /// What a transaction's statements did so far: whether one failed (which aborts the transaction) and how many may
    /// have changed something. Group commit asks it whether an entry that threw left anything to
    /// undo (PostgresStore.commitTogether).
    final class Effects {
        private(set) var statements = 0
        /// Statements that may have changed a row: anything but a SELECT (the store's SELECTs read, or take locks)
        /// and an UPDATE, INSERT or DELETE that touched no row.
        private(set) var changes = 0
        /// A statement failed: the transaction is aborted until it rolls back (or the connection is gone).
        private(set) var anyFailed = false
        /// A statement failed with the server's answer, not for a lost connection: it changed nothing.
        fileprivate(set) var refusedByServer = false
        /// The connection is gone, or the server said it ends it (a FATAL answer: the backend was terminated, the
        /// server shuts down). Nothing more is sent on it: PostgresNIO may never answer a statement sent after a
        /// FATAL answer and before the connection closed, which would hold this thread, and its lane, forever.
        fileprivate(set) var connectionLost = false
        /// Statements the body may send, when limited (PostgresStore.read's first try: one); nil for no limit.
        var limit: Int?
        /// Statements refused for the limit: the body wanted more than it may send here.
        fileprivate(set) var refusals = 0

        fileprivate func record(_ sql: String, _ result: PostgresQueryResult) {
            statements += 1
            let touchedNoRow =
                ["UPDATE", "INSERT", "DELETE"].contains(result.metadata.command) && result.metadata.rows == 0
            if !sql.hasPrefix("SELECT ") && !touchedNoRow { changes += 1 }
        }

        fileprivate func recordFailure() {
            statements += 1
            anyFailed = true
        }
    }

    /// Progress reports recorded before their entries' bodies ran, each handed to the body that asks for it.
    final class RecordedProgress {
        private var recorded: [String: (report: ProgressReport, result: JobExecution?, claimed: Bool)] = [:]

        static func key(_ jobID: String, _ thing: String) -> String { jobID + "\u{0}" + thing }

        /// Hands each body that asks for its report what was recorded for it before (a statement of its own).
        func stash(_ recorded: [(report: ProgressReport, result: JobExecution?)]) {
            for (report, result) in recorded { stash(report, result: result) }
        }

        func stash(_ report: ProgressReport, result: JobExecution?) {
            recorded[Self.key(report.jobID, report.thing)] = (report, result, false)
        }

        /// The result recorded for exactly this report, once: `.some(nil)` when it changed nothing.
        fileprivate func claim(_ report: ProgressReport) -> JobExecution?? {
            let key = Self.key(report.jobID, report.thing)
            guard let entry = recorded[key], !entry.claimed, entry.report == report else { return nil }
            recorded[key]?.claimed = true
            return .some(entry.result)
        }
    }

    /// A statement past the body's limit (`Effects.limit`): the body must run where it may send more.
    struct StatementLimitReached: Error {}

    // MARK: Statements

    @discardableResult
    func run(_ sql: String, _ values: [PostgresColumnValue] = []) throws -> PostgresQueryResult {
        if let limit = effects.limit, effects.statements >= limit {
            effects.refusals += 1
            throw StatementLimitReached()
        }
        guard !effects.connectionLost else {
            throw StoreError.unavailable("PostgreSQL: the connection ended during the transaction")
        }
        do {
            let result = try runAfterHeld(Self.query(sql, values), isSelect: sql.hasPrefix("SELECT "))
            effects.record(sql, result)
            return result
        } catch {
            effects.recordFailure()
            throw error
        }
    }

    private func runAfterHeld(_ query: PostgresQuery, isSelect: Bool) throws -> PostgresQueryResult {
        let (leading, opening) = held.take()
        guard !leading.isEmpty else { return try send([query])[0] }
        // A write that opens the transaction waits until BEGIN succeeded: were it refused, the write would run on
        // its own, outside the transaction and its locks. Anything else rides with what is held: inside an open
        // transaction a failed statement fails every later one (the transaction is aborted until it rolls back).
        if opening && !isSelect {
            try send(leading)
            return try send([query])[0]
        }
        return try send(leading + [query]).last!
    }

    /// Runs `body` inside a savepoint: a throw undoes the body's statements alone and leaves the transaction usable
    /// (the error is rethrown). The savepoint's commands are held and ride with the statements around them.
    ///
    /// Savepoints are not released: each entry's SAVEPOINT nests in the one before, and ROLLBACK TO goes back to the
    /// newest of the name, this entry's, so what earlier entries did stands. COMMIT keeps them all. A RELEASE would be
    /// one more statement, parsed and answered, per entry; a batch (at most GroupCommit's 32 entries) stays within
    /// the 64 subtransactions a PostgreSQL backend tracks in shared memory.
    func inSavepoint(_ body: () throws -> Void) throws {
        held.hold(Self.query("SAVEPOINT entry"))
        let handovers = held.handovers
        do {
            try body()
        } catch {
            if held.handovers == handovers {
                held.withdrawLast()
            } else {
                held.hold(Self.query("ROLLBACK TO SAVEPOINT entry"))
            }
            throw error
        }
        if held.handovers == handovers { held.withdrawLast() }
    }

    /// Hands every query to the connection before waiting for the first answer; throws the first failure, after
    /// every answer came (a statement after a failed one fails too, or runs harmlessly: see `run`).
    @discardableResult
    private func send(_ queries: [PostgresQuery]) throws -> [PostgresQueryResult] {
        counter?.add(queries.count)
        let answers = queries.map { connection.query($0, logger: logger) }
        // The connection answers in order: once the last answer is in, every one is, and this thread woke once.
        if let last = answers.last {
            do { try AnswerWait.wait(for: last) { connection.isClosed } } catch {
                effects.connectionLost = true
                throw StoreError.unavailable("PostgreSQL: the connection closed before the statement was answered")
            }
        }
        var results: [PostgresQueryResult] = []
        var failure: (any Error)?
        for answer in answers {
            do { results.append(try answer.wait()) } catch { failure = failure ?? error }
        }
        if let failure {
            let answered = failure as? PSQLError
            if answered?.code == .server { effects.refusedByServer = true }
            if answered?.code != .server || ["FATAL", "PANIC"].contains(answered?.serverInfo?[.severity]) {
                effects.connectionLost = true
            }
            throw PostgresErrors.translate(failure, context: "PostgreSQL")
        }
        return results
    }

    static func query(_ sql: String, _ values: [PostgresColumnValue] = []) -> PostgresQuery {
        var binds = PostgresBindings(capacity: values.count)
        for value in values { value.append(to: &binds) }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    func records<Record: Decodable>(
        _ type: Record.Type, _ sql: String, _ values: [PostgresColumnValue] = []
    ) throws -> [Record] {
        try run(sql, values).rows.map { try PostgresRecordDecoder.decode(Record.self, from: $0) }
    }

    func record<Record: Decodable>(
        _ type: Record.Type, _ sql: String, _ values: [PostgresColumnValue] = []
    ) throws -> Record? {
        try records(type, sql, values).first
    }

    func strings(_ sql: String, _ values: [PostgresColumnValue] = []) throws -> [String] {
        try run(sql, values).rows.map { row in
            guard let cell = row.makeRandomAccess().first, cell.bytes != nil else {
                throw StoreError.corrupt("a text column read NULL")
            }
            return try Self.decoding("a text column") { try cell.decode(String.self) }
        }
    }

    /// A value PostgresNIO cannot decode as the type asked for is stored data this version cannot read: a typed
    /// `StoreError`, as the records' decoder gives (PostgresRecordCoding.swift).
    static func decoding<T>(_ what: @autoclosure () -> String, _ decode: () throws -> T) throws -> T {
        do { return try decode() } catch let error as StoreError { throw error } catch {
            throw StoreError.corrupt("\(what()) does not hold a \(T.self): \(error)")
        }
    }

    /// Inserts the record, or replaces every column of the row with the same key: GRDB's `save` on SQLite.
    func upsert<Record: Encodable>(_ record: Record, into table: String, key: String) throws {
        let columns = try PostgresRecordEncoder.columns(of: record)
        let names = columns.map { "\"\($0.name)\"" }
        let placeholders = (1...columns.count).map { "$\($0)" }
        let updates = columns.filter { $0.name != key }.map { "\"\($0.name)\" = EXCLUDED.\"\($0.name)\"" }
        try run(
            """
            INSERT INTO "\(table)" (\(names.joined(separator: ", "))) VALUES (\(placeholders.joined(separator: ", ")))
            ON CONFLICT ("\(key)") DO UPDATE SET \(updates.joined(separator: ", "))
            """, columns.map(\.value))
    }

    // MARK: StoreReader

    func thing(named name: String) throws -> Thing? {
        try record(Thing.self, #"SELECT * FROM "thing" WHERE "name" = $1"#, [.text(name)])
    }
    func things() throws -> [Thing] { try records(Thing.self, #"SELECT * FROM "thing" ORDER BY "name""#) }
    func group(named name: String) throws -> ThingGroup? {
        try record(ThingGroup.self, #"SELECT * FROM "thingGroup" WHERE "name" = $1"#, [.text(name)])
    }
    func groups() throws -> [ThingGroup] {
        try records(ThingGroup.self, #"SELECT * FROM "thingGroup" ORDER BY "name""#)
    }

    func staticMembers(of group: String) throws -> [String] {
        try strings(
            #"SELECT "thingName" FROM "groupMember" WHERE "groupName" = $1 ORDER BY "thingName""#, [.text(group)])
    }

    func staticGroups(of thing: String) throws -> [String] {
        try strings(
            #"SELECT "groupName" FROM "groupMember" WHERE "thingName" = $1 ORDER BY "groupName""#, [.text(thing)])
    }

    func certificate(fingerprint: String) throws -> DeviceCertificate? {
        try record(
            DeviceCertificate.self, #"SELECT * FROM "deviceCertificate" WHERE "fingerprint" = $1"#,
            [.text(fingerprint)])
    }

    func certificates(of thing: String) throws -> [DeviceCertificate] {
        try records(
            DeviceCertificate.self,
            #"SELECT * FROM "deviceCertificate" WHERE "thingName" = $1 ORDER BY "createdAt", "fingerprint""#,
            [.text(thing)])
    }

    func deviceCertificates() throws -> [DeviceCertificate] {
        try records(DeviceCertificate.self, #"SELECT * FROM "deviceCertificate" ORDER BY "createdAt", "fingerprint""#)
    }

    func caCertificate(fingerprint: String) throws -> CACertificate? {
        try record(
            CACertificate.self, #"SELECT * FROM "caCertificate" WHERE "fingerprint" = $1"#, [.text(fingerprint)])
    }

    func caCertificates() throws -> [CACertificate] {
        try records(CACertificate.self, #"SELECT * FROM "caCertificate" ORDER BY "createdAt", "fingerprint""#)
    }

    func file(id: String) throws -> StoredFile? {
        try record(StoredFile.self, #"SELECT * FROM "storedFile" WHERE "id" = $1"#, [.text(id)])
    }
    func files() throws -> [StoredFile] {
        try records(StoredFile.self, #"SELECT * FROM "storedFile" ORDER BY "createdAt", "id""#)
    }
    func signingProfile(named name: String) throws -> SigningProfileRecord? {
        try record(SigningProfileRecord.self, #"SELECT * FROM "signingProfile" WHERE "name" = $1"#, [.text(name)])
    }
    func signingProfiles() throws -> [SigningProfileRecord] {
        try records(SigningProfileRecord.self, #"SELECT * FROM "signingProfile" ORDER BY "name""#)
    }

    func update(id: String) throws -> OTAUpdate? {
        try record(OTAUpdate.self, #"SELECT * FROM "otaUpdate" WHERE "id" = $1"#, [.text(id)])
    }
    func updates() throws -> [OTAUpdate] {
        try records(OTAUpdate.self, #"SELECT * FROM "otaUpdate" ORDER BY "createdAt", "id""#)
    }
    func job(id: String) throws -> Job? { try record(Job.self, #"SELECT * FROM "job" WHERE "id" = $1"#, [.text(id)]) }
    func jobs() throws -> [Job] { try records(Job.self, #"SELECT * FROM "job" ORDER BY "createdAt", "id""#) }
    func activeJobs() throws -> [Job] {
        try records(
            Job.self, #"SELECT * FROM "job" WHERE "status" = $1 ORDER BY "createdAt", "id""#,
            [.text(JobStatus.inProgress.rawValue)])
    }
    func stream(id: String) throws -> StreamRecord? {
        try record(StreamRecord.self, #"SELECT * FROM "stream" WHERE "id" = $1"#, [.text(id)])
    }

    func execution(jobID: String, thing: String) throws -> JobExecution? {
        try record(
            JobExecution.self,
            """
            SELECT * FROM "jobExecution" WHERE "jobID" = $1 AND "thingName" = $2
            ORDER BY "executionNumber" DESC LIMIT 1
            """, [.text(jobID), .text(thing)])
    }

    func executions(jobID: String) throws -> [JobExecution] {
        try latestExecutions(where: "jobID", is: jobID, per: "thingName")
    }

    func executionTally(jobID: String, queuedAfter time: Int64) throws -> ExecutionTally {
        let rows = try run(
            """
            SELECT "status", count(*), count(*) FILTER (WHERE "queuedAt" > $2) FROM (
              SELECT DISTINCT ON ("thingName") "status", "queuedAt" FROM "jobExecution" WHERE "jobID" = $1
              ORDER BY "thingName", "executionNumber" DESC
            ) AS "latest" GROUP BY "status"
            """, [.text(jobID), .integer(time)]
        ).rows
        var tally = ExecutionTally()
        for row in rows {
            let (name, count, recent) = try Self.decoding("the execution tally of job \(jobID)") {
                try row.decode((String, Int64, Int64).self)
            }
            guard let status = JobExecutionStatus(rawValue: name) else {
                throw StoreError.corrupt("an execution of job \(jobID) has the unknown status \(name)")
            }
            tally.byStatus[status] = Int(count)
            tally.queuedAfter += Int(recent)
        }
        return tally
    }

    func executions(thing: String) throws -> [JobExecution] {
        try latestExecutions(where: "thingName", is: thing, per: "jobID")
    }

    /// The latest execution (highest number) per `group` among those whose `column` is `value`, in queue order.
    private func latestExecutions(where column: String, is value: String, per group: String) throws -> [JobExecution] {
        try records(
            JobExecution.self,
            """
            SELECT DISTINCT ON ("\(group)") * FROM "jobExecution" WHERE "\(column)" = $1
            ORDER BY "\(group)", "executionNumber" DESC
            """, [.text(value)]
        ).sorted { $0.sequence < $1.sequence }
    }

    func pendingTargets(jobID: String, limit: Int) throws -> [String] {
        try strings(
            #"SELECT "thingName" FROM "pendingTarget" WHERE "jobID" = $1 ORDER BY "position" LIMIT $2"#,
            [.text(jobID), .integer(Int64(limit))])
    }

    func pendingTargetCount(jobID: String) throws -> Int {
        guard
            let count = try run(#"SELECT COUNT(*) FROM "pendingTarget" WHERE "jobID" = $1"#, [.text(jobID)]).rows
                .first?.makeRandomAccess().first
        else { return 0 }
        return Int(try Self.decoding("the pending target count of job \(jobID)") { try count.decode(Int64.self) })
    }

    func timedOutExecutions(at time: Int64) throws -> [JobExecution] {
        try records(
            JobExecution.self,
            #"SELECT * FROM "jobExecution" WHERE "status" = $1 AND "timeoutAt" <= $2 ORDER BY "sequence""#,
            [.text(JobExecutionStatus.inProgress.rawValue), .integer(time)])
    }

    // MARK: StoreWriter

    func save(_ thing: Thing) throws { try upsert(thing, into: "thing", key: "name") }
    func deleteThing(named name: String) throws { try run(#"DELETE FROM "thing" WHERE "name" = $1"#, [.text(name)]) }
    func save(_ group: ThingGroup) throws { try upsert(group, into: "thingGroup", key: "name") }
    func deleteGroup(named name: String) throws {
        try run(#"DELETE FROM "thingGroup" WHERE "name" = $1"#, [.text(name)])
    }

    func addMember(_ thing: String, to group: String) throws {
        try run(
            #"INSERT INTO "groupMember" ("groupName", "thingName") VALUES ($1, $2) ON CONFLICT DO NOTHING"#,
            [.text(group), .text(thing)])
    }

    func removeMember(_ thing: String, from group: String) throws {
        try run(
            #"DELETE FROM "groupMember" WHERE "groupName" = $1 AND "thingName" = $2"#, [.text(group), .text(thing)])
    }

    func save(_ certificate: DeviceCertificate) throws {
        try upsert(certificate, into: "deviceCertificate", key: "fingerprint")
    }
    func save(_ authority: CACertificate) throws { try upsert(authority, into: "caCertificate", key: "fingerprint") }
    func save(_ file: StoredFile) throws { try upsert(file, into: "storedFile", key: "id") }
    func save(_ profile: SigningProfileRecord) throws { try upsert(profile, into: "signingProfile", key: "name") }
    func save(_ update: OTAUpdate) throws { try upsert(update, into: "otaUpdate", key: "id") }
    func save(_ job: Job) throws { try upsert(job, into: "job", key: "id") }
    func save(_ stream: StreamRecord) throws { try upsert(stream, into: "stream", key: "id") }

    func insert(_ execution: JobExecution) throws -> JobExecution {
        let result = try run(
            """
            INSERT INTO "jobExecution" ("jobID", "thingName", "executionNumber", "status", "statusDetails",
              "queuedAt", "startedAt", "lastUpdatedAt", "versionNumber", "timeoutAt")
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING "sequence"
            """,
            [
                .text(execution.jobID), .text(execution.thingName), .integer(execution.executionNumber),
                .text(execution.status.rawValue), execution.statusDetails.map { .text($0) } ?? .null,
                .integer(execution.queuedAt), execution.startedAt.map { .integer($0) } ?? .null,
                .integer(execution.lastUpdatedAt), .integer(execution.versionNumber),
                execution.timeoutAt.map { .integer($0) } ?? .null,
            ])
        guard let sequence = result.rows.first?.makeRandomAccess().first else {
            throw StoreError.corrupt("jobExecution insert returned no sequence")
        }
        var stored = execution
        stored.sequence = try sequence.decode(Int64.self)
        return stored
    }

    func replace(_ execution: JobExecution, expectedVersion: Int64) throws -> Bool {
        let result = try run(
            """
            UPDATE "jobExecution" SET "status" = $1, "statusDetails" = $2, "startedAt" = $3, "lastUpdatedAt" = $4,
              "versionNumber" = $5, "timeoutAt" = $6
            WHERE "jobID" = $7 AND "thingName" = $8 AND "executionNumber" = $9 AND "versionNumber" = $10
            """,
            [
                .text(execution.status.rawValue), execution.statusDetails.map { .text($0) } ?? .null,
                execution.startedAt.map { .integer($0) } ?? .null, .integer(execution.lastUpdatedAt),
                .integer(execution.versionNumber), execution.timeoutAt.map { .integer($0) } ?? .null,
                .text(execution.jobID), .text(execution.thingName), .integer(execution.executionNumber),
                .integer(expectedVersion),
            ])
        return result.metadata.rows == 1
    }

    /// One statement rather than a read and a replace (StoreWriter+Progress.swift): two thirds of a device's reports
    /// are progress. Every SET expression sees the row as it was, so the timeout starts from the stored start. A
    /// report recorded before the body ran (`recordProgressFirst`) is answered from there, once.
    func recordProgress(
        jobID: String, thing: String, statusDetails: JSONObject?, at time: Int64, inProgressTimeoutMinutes: Int?
    ) throws -> JobExecution? {
        let report = ProgressReport(
            jobID: jobID, thing: thing, statusDetails: statusDetails, time: time,
            inProgressTimeoutMinutes: inProgressTimeoutMinutes)
        if let recorded = recordedProgress.claim(report) { return recorded }
        return try record(
            JobExecution.self,
            """
            UPDATE "jobExecution" SET "statusDetails" = COALESCE($1, "statusDetails"),
              "versionNumber" = "versionNumber" + 1, "lastUpdatedAt" = $2, "startedAt" = COALESCE("startedAt", $2),
              "timeoutAt" = COALESCE("timeoutAt", COALESCE("startedAt", $2) + $3 * 60)
            WHERE "jobID" = $4 AND "thingName" = $5 AND "status" = 'IN_PROGRESS' AND "lastUpdatedAt" <= $2
              AND "executionNumber" = (
              SELECT MAX("executionNumber") FROM "jobExecution" WHERE "jobID" = $4 AND "thingName" = $5)
            RETURNING *
            """,
            [
                statusDetails.map { .text(JSONValue.object($0).serializedText) } ?? .null, .integer(time),
                inProgressTimeoutMinutes.map { .integer(Int64($0)) } ?? .null, .text(jobID), .text(thing),
            ])
    }

    /// Records the progress reports of several things — at most one a thing — in one statement that is a
    /// transaction by itself: it takes the locks a write of these things takes (`locks`, from
    /// `PostgresStore.TransactionKind.ThingLocks`) before it changes a row, and makes each report's change as
    /// `recordProgress` would. Each result is kept for the body that asks for it; nil where the execution was not in
    /// progress (nothing changed). Sent outside BEGIN … COMMIT, on a transaction with no opening.
    ///
    /// Why the locks in a CTE are enough: the CTE is one row, computed before the join yields anything to update, so
    /// every lock is held before the first row changes. A row another writer changed while this statement waited
    /// for its lock is evaluated again on its committed version (READ COMMITTED's rule for UPDATE), so nothing it
    /// committed is lost; a writer that comes after waits for this statement's locks, and sees its change. What the
    /// re-evaluation does not see is a row inserted while it waited (the latest-execution subquery keeps the
    /// statement's snapshot): this relies on the engine never queuing a thing's new execution of a job while its
    /// previous one is in progress (a release and a continuous job's re-queue both require none open).
    func recordProgressFirst(
        _ reports: [ProgressReport], locks: PostgresStore.TransactionKind.ThingLocks
    ) throws -> [JobExecution?] {
        let columns = (
            jobs: reports.map(\.jobID), things: reports.map(\.thing),
            // Absent details as "": a JSON object's text is never empty.
            details: reports.map { $0.statusDetails.map { JSONValue.object($0).serializedText } ?? "" },
            times: reports.map { String($0.time) },
            timeouts: reports.map { $0.inProgressTimeoutMinutes.map(String.init) ?? "" }
        )
        let rows = try records(
            JobExecution.self,
            """
            WITH "locks" AS MATERIALIZED (SELECT \(locks.selectList(firstParameter: 6)))
            UPDATE "jobExecution" AS e SET "statusDetails" = COALESCE(NULLIF(r.details, ''), e."statusDetails"),
              "versionNumber" = e."versionNumber" + 1, "lastUpdatedAt" = r.time::int8,
              "startedAt" = COALESCE(e."startedAt", r.time::int8),
              "timeoutAt" = COALESCE(
                e."timeoutAt", COALESCE(e."startedAt", r.time::int8) + NULLIF(r.timeout, '')::int8 * 60)
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
              AS r(job, thing, details, time, timeout), "locks"
            WHERE e."jobID" = r.job AND e."thingName" = r.thing AND e."status" = 'IN_PROGRESS'
              AND e."lastUpdatedAt" <= r.time::int8 AND e."executionNumber" = (
                SELECT MAX("executionNumber") FROM "jobExecution" WHERE "jobID" = r.job AND "thingName" = r.thing)
            RETURNING e.*
            """,
            [
                .textArray(columns.jobs), .textArray(columns.things), .textArray(columns.details),
                .textArray(columns.times), .textArray(columns.timeouts),
            ] + locks.values)
        var updated: [String: JobExecution] = [:]
        for row in rows { updated[RecordedProgress.key(row.jobID, row.thingName)] = row }
        return reports.map { report in
            let result = updated[RecordedProgress.key(report.jobID, report.thing)]
            recordedProgress.stash(report, result: result)
            return result
        }
    }

    func addPendingTargets(jobID: String, things: [String]) throws {
        // One statement for the whole list: a group of thousands is one round trip, in the list's order.
        guard !things.isEmpty else { return }
        try run(
            """
            INSERT INTO "pendingTarget" ("jobID", "thingName")
            SELECT $1, name FROM unnest($2::text[]) WITH ORDINALITY AS t(name, n) ORDER BY n
            ON CONFLICT DO NOTHING
            """, [.text(jobID), .textArray(things)])
    }

    func removePendingTarget(jobID: String, thing: String) throws {
        try run(
            #"DELETE FROM "pendingTarget" WHERE "jobID" = $1 AND "thingName" = $2"#, [.text(jobID), .text(thing)])
    }

    func removeAllPendingTargets(jobID: String) throws {
        try run(#"DELETE FROM "pendingTarget" WHERE "jobID" = $1"#, [.text(jobID)])
    }
}
