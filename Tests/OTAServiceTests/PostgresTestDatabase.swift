import Foundation
import Logging
import PostgresNIO
import TestSupport

@testable import OTAService

// PostgreSQL for the storage tests: a real server (TestPostgresServer). Each test gets a database of its own, so
// tests never see each other's rows.
enum PostgresTestDatabase {
    /// The server's maintenance database, where test databases are created.
    static func server() throws -> PostgresDatabaseURL {
        try PostgresDatabaseURL(try TestPostgresServer.url())
    }

    /// A new, empty database on the test server.
    static func create() async throws -> PostgresDatabaseURL {
        try await PostgresScratchDatabase.create(on: try server(), prefix: "ota_test_")
    }

    /// The database this directory's test uses: created on first use and remembered in the directory, so reopening
    /// a store in the same directory reaches the same rows.
    static func database(for directory: TemporaryDirectory) async throws -> PostgresDatabaseURL {
        let remembered = directory.path("postgres-database")
        if let name = try? String(contentsOfFile: remembered, encoding: .utf8) {
            return try server().with(database: name)
        }
        let url = try await create()
        try url.database.write(toFile: remembered, atomically: true, encoding: .utf8)
        return url
    }

    /// A migrated store on a database of this directory.
    static func store(for directory: TemporaryDirectory) async throws -> PostgresStore {
        let store = try PostgresStore(url: try await database(for: directory), logger: Logger(label: "test"))
        try await store.prepare()
        return store
    }

    /// Replaces what the database holds for a file, as someone with database access and no business there would.
    static func overwrite(_ fileID: String, with bytes: [UInt8], in store: PostgresStore) async throws {
        _ = try await store.transaction(.independentWrite) { transaction in
            try transaction.run(#"DELETE FROM "fileChunk" WHERE "fileID" = $1"#, [.text(fileID)])
            try transaction.run(
                #"INSERT INTO "fileChunk" ("fileID", "position", "bytes") VALUES ($1, 0, $2)"#,
                [.text(fileID), .bytes(bytes)])
            try transaction.run(
                #"UPDATE "fileContent" SET "chunkCount" = 1 WHERE "fileID" = $1"#, [.text(fileID)])
        }
    }

    /// How many chunks a file is kept in.
    static func chunkCount(of fileID: String, in files: any FileStore) async throws -> Int {
        guard let store = (files as? PostgresFileStore)?.store else { return 0 }
        return try await store.transaction(.snapshot) { transaction in
            try transaction.run(#"SELECT count(*) FROM "fileChunk" WHERE "fileID" = $1"#, [.text(fileID)])
                .rows.first?.makeRandomAccess()[0].decode(Int.self) ?? 0
        }
    }
}
