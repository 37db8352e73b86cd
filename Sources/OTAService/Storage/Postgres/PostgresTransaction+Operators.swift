// Operator accounts, API tokens and the audit trail on PostgreSQL (OTAStore's operator methods).

extension PostgresTransaction {
    func operatorAccount(named name: String) throws -> OperatorAccount? {
        try record(OperatorAccount.self, #"SELECT * FROM "operatorAccount" WHERE "name" = $1"#, [.text(name)])
    }
    func operatorAccounts() throws -> [OperatorAccount] {
        try records(OperatorAccount.self, #"SELECT * FROM "operatorAccount" ORDER BY "name""#)
    }
    func apiToken(digest: String) throws -> APITokenRecord? {
        try record(APITokenRecord.self, #"SELECT * FROM "apiToken" WHERE "digest" = $1"#, [.text(digest)])
    }
    func apiTokens(of operatorName: String) throws -> [APITokenRecord] {
        try records(
            APITokenRecord.self, #"SELECT * FROM "apiToken" WHERE "operatorName" = $1 ORDER BY "createdAt", "id""#,
            [.text(operatorName)])
    }
    func auditEntries(after: Int64, limit: Int) throws -> [AuditEntry] {
        try records(
            AuditEntry.self, #"SELECT * FROM "auditEntry" WHERE "sequence" > $1 ORDER BY "sequence" LIMIT $2"#,
            [.integer(after), .integer(Int64(limit))])
    }

    func latestAuditEntries(before: Int64, limit: Int) throws -> [AuditEntry] {
        try records(
            AuditEntry.self, #"SELECT * FROM "auditEntry" WHERE "sequence" < $1 ORDER BY "sequence" DESC LIMIT $2"#,
            [.integer(before), .integer(Int64(limit))])
    }
    func consoleSession(digest: String) throws -> ConsoleSession? {
        try record(ConsoleSession.self, #"SELECT * FROM "consoleSession" WHERE "digest" = $1"#, [.text(digest)])
    }
    func save(_ session: ConsoleSession) throws { try upsert(session, into: "consoleSession", key: "digest") }
    func deleteConsoleSessions(digest: String?, operatorName: String?, idleBefore: Int64) throws {
        try run(
            #"DELETE FROM "consoleSession" WHERE "digest" = $1 OR "operatorName" = $2 OR "lastSeenAt" < $3"#,
            [digest.map { .text($0) } ?? .null, operatorName.map { .text($0) } ?? .null, .integer(idleBefore)])
    }

    func save(_ account: OperatorAccount) throws { try upsert(account, into: "operatorAccount", key: "name") }
    func save(_ token: APITokenRecord) throws { try upsert(token, into: "apiToken", key: "id") }
    func append(_ entry: AuditEntry) throws -> AuditEntry {
        var stored = entry
        stored.sequence = nil
        // The identity column assigns the sequence: it is not among the values inserted.
        let columns = try PostgresRecordEncoder.columns(of: stored).filter { $0.name != "sequence" }
        let names = columns.map { "\"\($0.name)\"" }.joined(separator: ", ")
        let placeholders = (1...columns.count).map { "$\($0)" }.joined(separator: ", ")
        let result = try run(
            #"INSERT INTO "auditEntry" (\#(names)) VALUES (\#(placeholders)) RETURNING "sequence""#,
            columns.map(\.value))
        guard let sequence = result.rows.first?.makeRandomAccess().first else {
            throw StoreError.corrupt("auditEntry insert returned no sequence")
        }
        stored.sequence = try sequence.decode(Int64.self)
        return stored
    }
}
