import Foundation
import GRDB
import OTAWire

// SQLite through GRDB: one file in the data directory, WAL journal, foreign keys on, schema by migrations.
// Nested values (attributes, targets, rollout) are JSON columns through Codable.

public final class SQLiteStore: OTAStore {
    private let pool: DatabasePool
    let reports: GroupCommit<SQLiteTransaction>

    public convenience init(path: String) throws {
        try self.init(path: path, migratingUpTo: nil)
    }

    /// `migratingUpTo` stops at a named migration: tests make the database an older release left behind.
    init(path: String, migratingUpTo lastMigration: String?) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        let pool = try DatabasePool(path: path, configuration: configuration)
        self.pool = pool
        reports = Self.groupCommit(pool)
        if let lastMigration {
            try Self.migrator.migrate(pool, upTo: lastMigration)
        } else {
            try Self.migrator.migrate(pool)
        }
    }

    /// Runs raw SQL: tests write rows the way an older release did (its records had fewer columns).
    func execute(sql: String) throws {
        try pool.write { db in try db.execute(sql: sql) }
    }

    public func read<T: Sendable>(_ body: @Sendable (any StoreReader) throws -> T) async throws -> T {
        try await pool.read { db in try body(SQLiteTransaction(db: db)) }
    }

    public func write<T: Sendable>(_ body: @Sendable (any StoreWriter) throws -> T) async throws -> T {
        try await pool.write { db in try body(SQLiteTransaction(db: db)) }
    }

    /// `progress` changes nothing here: recording a report costs no round trip.
    public func write<T: Sendable>(
        thing: String, progress: ProgressReport?, _ body: @Sendable (any StoreWriter) throws -> T
    ) async throws -> T {
        try await reports.write(thing: thing) { try body($0) }
    }

    public var reportCommits: ReportCommitCounts { reports.committed }

    /// One UPDATE of that column, in a report's group commit: the default read and save of the whole record cost as
    /// much as a report, and a fleet's reconnect storm makes one per device.
    public func recordSeen(thing: String, at time: Int64, interval: Int64) async throws {
        try await reports.write(thing: thing) { transaction in
            try transaction.db.cachedStatement(
                sql: "UPDATE thing SET lastSeenAt = ? WHERE name = ? AND (lastSeenAt IS NULL OR lastSeenAt <= ? - ?)"
            ).execute(arguments: [time, thing, time, interval])
        }
    }

    /// One transaction for the lot, counted with the reports group commit made.
    public func recordProgress(_ progress: [ProgressReport]) async throws -> [JobExecution?] {
        guard !progress.isEmpty else { return [] }
        let results = try await pool.write { db in
            let writer = SQLiteTransaction(db: db)
            return try progress.map { try writer.recordProgress($0) }
        }
        reports.countCommitted(reports: progress.count)
        return results
    }

    /// Reports that arrive together commit together (GroupCommit.swift): one transaction and one WAL commit, with
    /// its fsync, for the lot; each report in a savepoint. One batch at a time: SQLite has one writer.
    private static func groupCommit(_ pool: DatabasePool) -> GroupCommit<SQLiteTransaction> {
        GroupCommit(lanes: 1, maximumBatch: 64) { entries in
            try await pool.write { db in
                for entry in entries {
                    do {
                        try db.inSavepoint {
                            try entry.run(SQLiteTransaction(db: db))
                            return .commit
                        }
                    } catch {
                        // Some failures (a full disk, an I/O error) make SQLite roll back the whole transaction:
                        // then nothing of the batch stands, and every entry fails.
                        guard db.isInsideTransaction else { throw error }
                    }
                }
            }
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "thing") { t in
                t.primaryKey("name", .text)
                t.column("attributes", .jsonText).notNull()
                t.column("createdAt", .integer).notNull()
                t.column("lastSeenAt", .integer)
            }
            try db.create(table: "thingGroup") { t in
                t.primaryKey("name", .text)
                t.column("description", .text).notNull()
                t.column("query", .text)
                t.column("createdAt", .integer).notNull()
            }
            try db.create(table: "groupMember") { t in
                t.column("groupName", .text).notNull().references("thingGroup", onDelete: .cascade)
                t.column("thingName", .text).notNull().references("thing", onDelete: .cascade)
                t.primaryKey(["groupName", "thingName"])
            }
            try db.create(index: "groupMemberByThing", on: "groupMember", columns: ["thingName"])
            try db.create(table: "deviceCertificate") { t in
                t.primaryKey("fingerprint", .text)
                t.column("thingName", .text).notNull().indexed()
                t.column("pem", .text).notNull()
                t.column("status", .text).notNull()
                t.column("notAfter", .integer).notNull()
                t.column("createdAt", .integer).notNull()
            }
            try db.create(table: "storedFile") { t in
                t.primaryKey("id", .text)
                t.column("name", .text).notNull()
                t.column("size", .integer).notNull()
                t.column("kind", .text).notNull()
                t.column("version", .text)
                t.column("secureVersion", .integer)
                t.column("projectName", .text)
                t.column("createdAt", .integer).notNull()
            }
            try db.create(table: "signingProfile") { t in
                t.primaryKey("name", .text)
                t.column("platform", .text).notNull()
                t.column("algorithm", .text).notNull()
                t.column("certificatePEM", .text).notNull()
                t.column("keyPath", .text)
                t.column("certificatePathOnDevice", .text).notNull()
                t.column("createdAt", .integer).notNull()
            }
            try db.create(table: "stream") { t in
                t.primaryKey("id", .text)
                t.column("version", .integer).notNull()
                t.column("files", .jsonText).notNull()
                t.column("createdAt", .integer).notNull()
            }
            try db.create(table: "job") { t in
                t.primaryKey("id", .text)
                t.column("updateID", .text).notNull()
                t.column("description", .text).notNull()
                t.column("document", .text).notNull()
                t.column("streamID", .text).notNull().references("stream")
                t.column("fileID", .text).notNull().references("storedFile")
                t.column("targets", .jsonText).notNull()
                t.column("selection", .text).notNull()
                t.column("rollout", .jsonText).notNull()
                t.column("abortCriteria", .jsonText).notNull()
                t.column("inProgressTimeoutMinutes", .integer)
                t.column("status", .text).notNull().indexed()
                t.column("reason", .text)
                t.column("createdAt", .integer).notNull()
                t.column("completedAt", .integer)
            }
            try db.create(table: "otaUpdate") { t in
                t.primaryKey("id", .text)
                t.column("fileID", .text).notNull().references("storedFile")
                t.column("fileType", .integer).notNull()
                t.column("fileName", .text).notNull()
                t.column("signingProfile", .text).notNull()
                t.column("signature", .text).notNull()
                t.column("jobID", .text).notNull().references("job")
                t.column("createdAt", .integer).notNull()
            }
            try db.create(table: "jobExecution") { t in
                t.autoIncrementedPrimaryKey("sequence")
                t.column("jobID", .text).notNull().references("job", onDelete: .cascade)
                t.column("thingName", .text).notNull()
                t.column("executionNumber", .integer).notNull()
                t.column("status", .text).notNull()
                t.column("statusDetails", .text)
                t.column("queuedAt", .integer).notNull()
                t.column("startedAt", .integer)
                t.column("lastUpdatedAt", .integer).notNull()
                t.column("versionNumber", .integer).notNull()
                t.column("timeoutAt", .integer)
                t.uniqueKey(["jobID", "thingName", "executionNumber"])
            }
            try db.create(index: "executionByThing", on: "jobExecution", columns: ["thingName", "sequence"])
            try db.create(index: "executionByTimeout", on: "jobExecution", columns: ["status", "timeoutAt"])
            try db.create(table: "pendingTarget") { t in
                t.autoIncrementedPrimaryKey("position")
                t.column("jobID", .text).notNull().references("job", onDelete: .cascade)
                t.column("thingName", .text).notNull()
                t.uniqueKey(["jobID", "thingName"])
            }
        }
        // Operator-registered CAs (devices that bring their own certificates). Migrations only ever append:
        // a database from before this one gains the table on its next open.
        migrator.registerMigration("v2-ca-certificates") { db in
            try db.create(table: "caCertificate") { t in
                t.primaryKey("fingerprint", .text)
                t.column("subject", .text).notNull()
                t.column("pem", .text).notNull()
                t.column("status", .text).notNull()
                t.column("notAfter", .integer).notNull()
                t.column("createdAt", .integer).notNull()
            }
        }
        migrator.registerMigration("v3-certificate-issuer") { db in
            try db.alter(table: "deviceCertificate") { t in
                t.add(column: "chainPEM", .text)
                t.add(column: "issuerCA", .text)
            }
        }
        // Files in a bucket (the S3 store): where the object is and the entity tag its SHA-256 was checked on.
        migrator.registerMigration("v4-file-location") { db in
            try db.alter(table: "storedFile") { t in
                t.add(column: "location", .text)
                t.add(column: "etag", .text)
            }
        }
        migrator.registerMigration("v5-operators", migrate: SQLiteOperatorTables.create)
        migrator.registerMigration("v6-console-sessions", migrate: SQLiteOperatorTables.createSessions)
        return migrator
    }
}

extension Thing: FetchableRecord, PersistableRecord {}
extension ThingGroup: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "thingGroup"
}
extension DeviceCertificate: FetchableRecord, PersistableRecord {}
extension CACertificate: FetchableRecord, PersistableRecord {}
extension StoredFile: FetchableRecord, PersistableRecord {}
extension SigningProfileRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "signingProfile"
}
extension StreamRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "stream"
}
extension Job: FetchableRecord, PersistableRecord {}
extension OTAUpdate: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "otaUpdate"
}
extension JobExecution: FetchableRecord, PersistableRecord {
    /// Decoded by hand: executions are read on every device request, and the Decodable path costs several times
    /// as much CPU as the query.
    public init(row: Row) throws {
        let statusText: String = try row.decode(forColumn: "status")
        guard let status = JobExecutionStatus(rawValue: statusText) else {
            throw DatabaseError(message: "jobExecution.status holds an unknown status \(statusText)")
        }
        self.init(
            jobID: try row.decode(forColumn: "jobID"), thingName: try row.decode(forColumn: "thingName"),
            executionNumber: try row.decode(forColumn: "executionNumber"), status: status,
            statusDetails: try row.decode(forColumn: "statusDetails"), queuedAt: try row.decode(forColumn: "queuedAt"),
            startedAt: try row.decode(forColumn: "startedAt"),
            lastUpdatedAt: try row.decode(forColumn: "lastUpdatedAt"),
            versionNumber: try row.decode(forColumn: "versionNumber"),
            timeoutAt: try row.decode(forColumn: "timeoutAt"),
            sequence: try row.decode(forColumn: "sequence"))
    }
}
extension JobExecutionStatus: Codable {}

/// One transaction's view: the reader and writer methods over a GRDB `Database`.
struct SQLiteTransaction: StoreWriter {
    let db: Database

    func thing(named name: String) throws -> Thing? { try Thing.fetchOne(db, key: name) }
    func things() throws -> [Thing] { try Thing.order(Column("name")).fetchAll(db) }
    func group(named name: String) throws -> ThingGroup? { try ThingGroup.fetchOne(db, key: name) }
    func groups() throws -> [ThingGroup] { try ThingGroup.order(Column("name")).fetchAll(db) }

    func staticMembers(of group: String) throws -> [String] {
        try String.fetchAll(
            db, sql: "SELECT thingName FROM groupMember WHERE groupName = ? ORDER BY thingName", arguments: [group])
    }

    func staticGroups(of thing: String) throws -> [String] {
        try String.fetchAll(
            db, sql: "SELECT groupName FROM groupMember WHERE thingName = ? ORDER BY groupName", arguments: [thing])
    }

    func certificate(fingerprint: String) throws -> DeviceCertificate? {
        try DeviceCertificate.fetchOne(db, key: fingerprint)
    }

    func certificates(of thing: String) throws -> [DeviceCertificate] {
        try DeviceCertificate.filter(Column("thingName") == thing).order(Column("createdAt")).fetchAll(db)
    }

    func deviceCertificates() throws -> [DeviceCertificate] {
        try DeviceCertificate.order(Column("createdAt"), Column("fingerprint")).fetchAll(db)
    }

    func caCertificate(fingerprint: String) throws -> CACertificate? {
        try CACertificate.fetchOne(db, key: fingerprint)
    }
    func caCertificates() throws -> [CACertificate] {
        try CACertificate.order(Column("createdAt"), Column("fingerprint")).fetchAll(db)
    }

    func file(id: String) throws -> StoredFile? { try StoredFile.fetchOne(db, key: id) }
    func files() throws -> [StoredFile] { try StoredFile.order(Column("createdAt"), Column("id")).fetchAll(db) }
    func signingProfile(named name: String) throws -> SigningProfileRecord? {
        try SigningProfileRecord.fetchOne(db, key: name)
    }
    func signingProfiles() throws -> [SigningProfileRecord] {
        try SigningProfileRecord.order(Column("name")).fetchAll(db)
    }

    func update(id: String) throws -> OTAUpdate? { try OTAUpdate.fetchOne(db, key: id) }
    func updates() throws -> [OTAUpdate] { try OTAUpdate.order(Column("createdAt"), Column("id")).fetchAll(db) }
    // The device hot path (a stream request, a progress report) runs these for every device many times: their
    // statements are prepared once per connection (cachedStatement) instead of on every call.
    func job(id: String) throws -> Job? {
        try Job.fetchOne(try db.cachedStatement(sql: "SELECT * FROM job WHERE id = ?"), arguments: [id])
    }
    func jobs() throws -> [Job] { try Job.order(Column("createdAt"), Column("id")).fetchAll(db) }
    func activeJobs() throws -> [Job] {
        try Job.filter(Column("status") == JobStatus.inProgress.rawValue).order(Column("createdAt")).fetchAll(db)
    }
    func stream(id: String) throws -> StreamRecord? {
        try StreamRecord.fetchOne(try db.cachedStatement(sql: "SELECT * FROM stream WHERE id = ?"), arguments: [id])
    }

    func execution(jobID: String, thing: String) throws -> JobExecution? {
        try JobExecution.fetchOne(
            try db.cachedStatement(
                sql: """
                    SELECT * FROM jobExecution WHERE jobID = ? AND thingName = ?
                    ORDER BY executionNumber DESC LIMIT 1
                    """), arguments: [jobID, thing])
    }

    func executions(jobID: String) throws -> [JobExecution] {
        try JobExecution.fetchAll(
            db,
            sql: """
                SELECT * FROM jobExecution e WHERE jobID = ? AND executionNumber =
                  (SELECT MAX(executionNumber) FROM jobExecution WHERE jobID = e.jobID AND thingName = e.thingName)
                ORDER BY sequence
                """, arguments: [jobID])
    }

    func executionTally(jobID: String, queuedAfter time: Int64) throws -> ExecutionTally {
        let rows = try Row.fetchAll(
            try db.cachedStatement(
                sql: """
                    SELECT status, count(*) AS total, sum(queuedAt > ?) AS recent FROM jobExecution e WHERE jobID = ?
                      AND executionNumber =
                        (SELECT MAX(executionNumber) FROM jobExecution WHERE jobID = e.jobID AND thingName = e.thingName)
                    GROUP BY status
                    """), arguments: [time, jobID])
        var tally = ExecutionTally()
        for row in rows {
            let name: String = row["status"]
            guard let status = JobExecutionStatus(rawValue: name) else {
                throw StoreError.corrupt("an execution of job \(jobID) has the unknown status \(name)")
            }
            tally.byStatus[status] = row["total"]
            tally.queuedAfter += row["recent"] as Int
        }
        return tally
    }

    func executions(thing: String) throws -> [JobExecution] {
        try JobExecution.fetchAll(
            try db.cachedStatement(
                sql: """
                    SELECT * FROM jobExecution e WHERE thingName = ? AND executionNumber =
                      (SELECT MAX(executionNumber) FROM jobExecution WHERE jobID = e.jobID AND thingName = e.thingName)
                    ORDER BY sequence
                    """), arguments: [thing])
    }

    func pendingTargets(jobID: String, limit: Int) throws -> [String] {
        try String.fetchAll(
            db, sql: "SELECT thingName FROM pendingTarget WHERE jobID = ? ORDER BY position LIMIT ?",
            arguments: [jobID, limit])
    }

    func pendingTargetCount(jobID: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pendingTarget WHERE jobID = ?", arguments: [jobID]) ?? 0
    }

    func timedOutExecutions(at time: Int64) throws -> [JobExecution] {
        try JobExecution.filter(
            Column("status") == JobExecutionStatus.inProgress.rawValue && Column("timeoutAt") <= time
        ).order(Column("sequence")).fetchAll(db)
    }

    func save(_ thing: Thing) throws { try thing.save(db) }
    func deleteThing(named name: String) throws { _ = try Thing.deleteOne(db, key: name) }
    func save(_ group: ThingGroup) throws { try group.save(db) }
    func deleteGroup(named name: String) throws { _ = try ThingGroup.deleteOne(db, key: name) }

    func addMember(_ thing: String, to group: String) throws {
        try db.execute(
            sql: "INSERT OR IGNORE INTO groupMember (groupName, thingName) VALUES (?, ?)", arguments: [group, thing])
    }

    func removeMember(_ thing: String, from group: String) throws {
        try db.execute(
            sql: "DELETE FROM groupMember WHERE groupName = ? AND thingName = ?", arguments: [group, thing])
    }

    func save(_ certificate: DeviceCertificate) throws { try certificate.save(db) }
    func save(_ authority: CACertificate) throws { try authority.save(db) }
    func save(_ file: StoredFile) throws { try file.save(db) }
    func save(_ profile: SigningProfileRecord) throws { try profile.save(db) }
    func save(_ update: OTAUpdate) throws { try update.save(db) }
    func save(_ job: Job) throws { try job.save(db) }
    func save(_ stream: StreamRecord) throws { try stream.save(db) }

    func insert(_ execution: JobExecution) throws -> JobExecution {
        try db.execute(
            sql: """
                INSERT INTO jobExecution (jobID, thingName, executionNumber, status, statusDetails, queuedAt, startedAt,
                  lastUpdatedAt, versionNumber, timeoutAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                execution.jobID, execution.thingName, execution.executionNumber, execution.status.rawValue,
                execution.statusDetails, execution.queuedAt, execution.startedAt, execution.lastUpdatedAt,
                execution.versionNumber, execution.timeoutAt,
            ])
        var stored = execution
        stored.sequence = db.lastInsertedRowID
        return stored
    }

    func replace(_ execution: JobExecution, expectedVersion: Int64) throws -> Bool {
        try db.cachedStatement(
            sql: """
                UPDATE jobExecution SET status = ?, statusDetails = ?, startedAt = ?, lastUpdatedAt = ?,
                  versionNumber = ?, timeoutAt = ?
                WHERE jobID = ? AND thingName = ? AND executionNumber = ? AND versionNumber = ?
                """
        ).execute(arguments: [
            execution.status.rawValue, execution.statusDetails, execution.startedAt, execution.lastUpdatedAt,
            execution.versionNumber, execution.timeoutAt, execution.jobID, execution.thingName,
            execution.executionNumber, expectedVersion,
        ])
        return db.changesCount == 1
    }

    func addPendingTargets(jobID: String, things: [String]) throws {
        let statement = try db.makeStatement(
            sql: "INSERT OR IGNORE INTO pendingTarget (jobID, thingName) VALUES (?, ?)")
        for thing in things { try statement.execute(arguments: [jobID, thing]) }
    }

    func removePendingTarget(jobID: String, thing: String) throws {
        try db.execute(sql: "DELETE FROM pendingTarget WHERE jobID = ? AND thingName = ?", arguments: [jobID, thing])
    }

    func removeAllPendingTargets(jobID: String) throws {
        try db.execute(sql: "DELETE FROM pendingTarget WHERE jobID = ?", arguments: [jobID])
    }
}
