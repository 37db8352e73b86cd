import GRDB

// Operator accounts, API tokens and the audit trail on SQLite (OTAStore's operator methods).

enum SQLiteOperatorTables {
    static func create(_ db: Database) throws {
        try db.create(table: "operatorAccount") { t in
            t.primaryKey("name", .text)
            t.column("role", .text).notNull()
            t.column("passwordHash", .text)
            t.column("disabled", .boolean).notNull()
            t.column("createdAt", .integer).notNull()
        }
        try db.create(table: "apiToken") { t in
            t.primaryKey("id", .text)
            t.column("operatorName", .text).notNull().references("operatorAccount").indexed()
            t.column("digest", .text).notNull().unique()
            t.column("label", .text).notNull()
            t.column("createdAt", .integer).notNull()
            t.column("revokedAt", .integer)
        }
        try db.create(table: "auditEntry") { t in
            t.autoIncrementedPrimaryKey("sequence")
            t.column("at", .integer).notNull()
            t.column("actor", .text).notNull()
            t.column("role", .text).notNull()
            t.column("source", .text).notNull()
            t.column("action", .text).notNull()
            t.column("target", .text)
            t.column("status", .integer).notNull()
            t.column("before", .text)
            t.column("after", .text)
        }
    }
}

extension SQLiteOperatorTables {
    static func createSessions(_ db: Database) throws {
        try db.create(table: "consoleSession") { t in
            t.primaryKey("digest", .text)
            t.column("operatorName", .text).notNull().references("operatorAccount")
            t.column("csrfToken", .text).notNull()
            t.column("createdAt", .integer).notNull()
            t.column("lastSeenAt", .integer).notNull().indexed()
        }
    }
}

extension OperatorRole: DatabaseValueConvertible {}
extension ConsoleSession: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "consoleSession"
}
extension OperatorAccount: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "operatorAccount"
}
extension APITokenRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "apiToken"
}
extension AuditEntry: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "auditEntry"
}

extension SQLiteTransaction {
    func operatorAccount(named name: String) throws -> OperatorAccount? { try OperatorAccount.fetchOne(db, key: name) }
    func operatorAccounts() throws -> [OperatorAccount] { try OperatorAccount.order(Column("name")).fetchAll(db) }
    func apiToken(digest: String) throws -> APITokenRecord? {
        try APITokenRecord.filter(Column("digest") == digest).fetchOne(db)
    }
    func apiTokens(of operatorName: String) throws -> [APITokenRecord] {
        try APITokenRecord.filter(Column("operatorName") == operatorName).order(Column("createdAt"), Column("id"))
            .fetchAll(db)
    }
    func auditEntries(after: Int64, limit: Int) throws -> [AuditEntry] {
        try AuditEntry.filter(Column("sequence") > after).order(Column("sequence")).limit(limit).fetchAll(db)
    }

    func latestAuditEntries(before: Int64, limit: Int) throws -> [AuditEntry] {
        try AuditEntry.filter(Column("sequence") < before).order(Column("sequence").desc).limit(limit).fetchAll(db)
    }
    func consoleSession(digest: String) throws -> ConsoleSession? { try ConsoleSession.fetchOne(db, key: digest) }
    func save(_ session: ConsoleSession) throws { try session.save(db) }
    func deleteConsoleSessions(digest: String?, operatorName: String?, idleBefore: Int64) throws {
        try ConsoleSession.filter(
            Column("digest") == digest || Column("operatorName") == operatorName || Column("lastSeenAt") < idleBefore
        ).deleteAll(db)
    }

    func save(_ account: OperatorAccount) throws { try account.save(db) }
    func save(_ token: APITokenRecord) throws { try token.save(db) }
    func append(_ entry: AuditEntry) throws -> AuditEntry {
        var stored = entry
        stored.sequence = nil
        try stored.insert(db)
        stored.sequence = db.lastInsertedRowID
        return stored
    }
}
