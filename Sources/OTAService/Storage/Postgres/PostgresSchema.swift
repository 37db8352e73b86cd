// The PostgreSQL schema, as versioned migrations applied at start. The tables and columns are those of the SQLite
// backend (Storage/SQLiteStore.swift) at its newest migration, with the same camel-case names (quoted, so that
// PostgreSQL keeps their case) and the same types: text, 64-bit integers, JSON text for nested values.
//
// Migrations only ever append. Each runs in its own transaction under an advisory lock, so two instances starting
// at once apply each one exactly once: the second waits, then finds it recorded in "schemaMigration".

enum PostgresSchema {
    struct Migration {
        let id: String
        let statements: [String]
    }

    /// Advisory lock keys (64-bit, arbitrary, fixed): one for migrations, one serializing writers (PostgresStore).
    static let migrationLockKey: Int64 = 0x5357_4f54_415f_4d49  // "SWOTA_MI"
    static let writeLockKey: Int64 = 0x5357_4f54_415f_5752  // "SWOTA_WR"
    static let schedulerLockKey: Int64 = 0x5357_4f54_415f_5343  // "SWOTA_SC"
    /// First key of a thing's two-key advisory lock; the second is `thingLockKey(name)`.
    static let thingLockClass: Int64 = 0x5357_4f54  // "SWOT"

    /// The thing's name hashed (FNV-1a, folded to 32 bits): the same in every instance, unlike Swift's seeded
    /// Hasher. Two names with one key only wait for each other.
    static func thingLockKey(_ thing: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in thing.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return Int64(Int32(truncatingIfNeeded: hash ^ (hash >> 32)))
    }

    static let createMigrationTable = """
        CREATE TABLE IF NOT EXISTS "schemaMigration" (
          "id" text PRIMARY KEY, "appliedAt" timestamptz NOT NULL DEFAULT now())
        """

    static let migrations: [Migration] = [
        Migration(
            id: "v1",
            statements: [
                """
                CREATE TABLE "thing" (
                  "name" text PRIMARY KEY, "attributes" text NOT NULL, "createdAt" bigint NOT NULL,
                  "lastSeenAt" bigint)
                """,
                """
                CREATE TABLE "thingGroup" (
                  "name" text PRIMARY KEY, "description" text NOT NULL, "query" text, "createdAt" bigint NOT NULL)
                """,
                """
                CREATE TABLE "groupMember" (
                  "groupName" text NOT NULL REFERENCES "thingGroup" ON DELETE CASCADE,
                  "thingName" text NOT NULL REFERENCES "thing" ON DELETE CASCADE,
                  PRIMARY KEY ("groupName", "thingName"))
                """,
                #"CREATE INDEX "groupMemberByThing" ON "groupMember" ("thingName")"#,
                """
                CREATE TABLE "deviceCertificate" (
                  "fingerprint" text PRIMARY KEY, "thingName" text NOT NULL, "pem" text NOT NULL,
                  "status" text NOT NULL, "notAfter" bigint NOT NULL, "createdAt" bigint NOT NULL,
                  "chainPEM" text, "issuerCA" text)
                """,
                #"CREATE INDEX "deviceCertificateByThing" ON "deviceCertificate" ("thingName")"#,
                """
                CREATE TABLE "caCertificate" (
                  "fingerprint" text PRIMARY KEY, "subject" text NOT NULL, "pem" text NOT NULL,
                  "status" text NOT NULL, "notAfter" bigint NOT NULL, "createdAt" bigint NOT NULL)
                """,
                """
                CREATE TABLE "storedFile" (
                  "id" text PRIMARY KEY, "name" text NOT NULL, "size" bigint NOT NULL, "kind" text NOT NULL,
                  "version" text, "secureVersion" bigint, "projectName" text, "createdAt" bigint NOT NULL,
                  "location" text, "etag" text)
                """,
                """
                CREATE TABLE "signingProfile" (
                  "name" text PRIMARY KEY, "platform" text NOT NULL, "algorithm" text NOT NULL,
                  "certificatePEM" text NOT NULL, "keyPath" text, "certificatePathOnDevice" text NOT NULL,
                  "createdAt" bigint NOT NULL)
                """,
                """
                CREATE TABLE "stream" (
                  "id" text PRIMARY KEY, "version" bigint NOT NULL, "files" text NOT NULL,
                  "createdAt" bigint NOT NULL)
                """,
                """
                CREATE TABLE "job" (
                  "id" text PRIMARY KEY, "updateID" text NOT NULL, "description" text NOT NULL,
                  "document" text NOT NULL, "streamID" text NOT NULL REFERENCES "stream",
                  "fileID" text NOT NULL REFERENCES "storedFile", "targets" text NOT NULL,
                  "selection" text NOT NULL, "rollout" text NOT NULL, "abortCriteria" text NOT NULL,
                  "inProgressTimeoutMinutes" bigint, "status" text NOT NULL, "reason" text,
                  "createdAt" bigint NOT NULL, "completedAt" bigint)
                """,
                #"CREATE INDEX "jobByStatus" ON "job" ("status")"#,
                """
                CREATE TABLE "otaUpdate" (
                  "id" text PRIMARY KEY, "fileID" text NOT NULL REFERENCES "storedFile",
                  "fileType" bigint NOT NULL, "fileName" text NOT NULL, "signingProfile" text NOT NULL,
                  "signature" text NOT NULL, "jobID" text NOT NULL REFERENCES "job", "createdAt" bigint NOT NULL)
                """,
                """
                CREATE TABLE "jobExecution" (
                  "sequence" bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                  "jobID" text NOT NULL REFERENCES "job" ON DELETE CASCADE, "thingName" text NOT NULL,
                  "executionNumber" bigint NOT NULL, "status" text NOT NULL, "statusDetails" text,
                  "queuedAt" bigint NOT NULL, "startedAt" bigint, "lastUpdatedAt" bigint NOT NULL,
                  "versionNumber" bigint NOT NULL, "timeoutAt" bigint,
                  UNIQUE ("jobID", "thingName", "executionNumber"))
                """,
                #"CREATE INDEX "executionByThing" ON "jobExecution" ("thingName", "sequence")"#,
                #"CREATE INDEX "executionByTimeout" ON "jobExecution" ("status", "timeoutAt")"#,
                """
                CREATE TABLE "pendingTarget" (
                  "position" bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                  "jobID" text NOT NULL REFERENCES "job" ON DELETE CASCADE, "thingName" text NOT NULL,
                  UNIQUE ("jobID", "thingName"))
                """,
            ]),
        // File contents in the database (PostgresFileStore): fixed-size chunks, so no row holds a whole image and
        // reads can go chunk by chunk.
        Migration(
            id: "v2-file-chunks",
            statements: [
                """
                CREATE TABLE "fileChunk" (
                  "fileID" text NOT NULL, "position" bigint NOT NULL, "bytes" bytea NOT NULL,
                  PRIMARY KEY ("fileID", "position"))
                """,
                """
                CREATE TABLE "fileContent" (
                  "fileID" text PRIMARY KEY, "size" bigint NOT NULL, "chunkCount" bigint NOT NULL)
                """,
            ]),
        // Operator accounts, their API tokens and the audit trail (Model/OperatorRecords.swift).
        Migration(
            id: "v3-operators",
            statements: [
                """
                CREATE TABLE "operatorAccount" (
                  "name" text PRIMARY KEY, "role" text NOT NULL, "passwordHash" text,
                  "disabled" boolean NOT NULL, "createdAt" bigint NOT NULL)
                """,
                """
                CREATE TABLE "apiToken" (
                  "id" text PRIMARY KEY, "operatorName" text NOT NULL REFERENCES "operatorAccount",
                  "digest" text NOT NULL UNIQUE, "label" text NOT NULL, "createdAt" bigint NOT NULL,
                  "revokedAt" bigint)
                """,
                #"CREATE INDEX "apiTokenByOperator" ON "apiToken" ("operatorName")"#,
                """
                CREATE TABLE "auditEntry" (
                  "sequence" bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "at" bigint NOT NULL,
                  "actor" text NOT NULL, "role" text NOT NULL, "source" text NOT NULL, "action" text NOT NULL,
                  "target" text, "status" bigint NOT NULL, "before" text, "after" text)
                """,
            ]),
        Migration(
            id: "v4-console-sessions",
            statements: [
                """
                CREATE TABLE "consoleSession" (
                  "digest" text PRIMARY KEY, "operatorName" text NOT NULL REFERENCES "operatorAccount",
                  "csrfToken" text NOT NULL, "createdAt" bigint NOT NULL, "lastSeenAt" bigint NOT NULL)
                """,
                #"CREATE INDEX "consoleSessionByLastSeen" ON "consoleSession" ("lastSeenAt")"#,
            ]),
    ]
}
