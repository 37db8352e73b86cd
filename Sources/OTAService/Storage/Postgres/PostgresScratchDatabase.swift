import Foundation
import Logging
import PostgresNIO

// Databases made for one run and dropped after it: the storage tests and `ota bench fleet --database` get an empty
// database of their own on the server they are given, whatever it already holds. Needs the CREATEDB privilege.

public enum PostgresScratchDatabase {
    /// Creates an empty database named `prefix` and a random suffix on `server`'s server.
    public static func create(on server: PostgresDatabaseURL, prefix: String) async throws -> PostgresDatabaseURL {
        let name = prefix + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await administer(server, "CREATE DATABASE \(try quoted(name))")
        return server.with(database: name)
    }

    /// Drops `database` (connections to it are ended first), from `server`'s maintenance database.
    public static func drop(_ database: PostgresDatabaseURL, from server: PostgresDatabaseURL) async throws {
        try await administer(server, "DROP DATABASE IF EXISTS \(try quoted(database.database)) WITH (FORCE)")
    }

    /// A database name cannot be a bound parameter: only names of letters, digits and underscores are used.
    private static func quoted(_ name: String) throws -> String {
        guard !name.isEmpty, name.utf8.count <= 63,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        else { throw OTAServiceError.invalidRequest("'\(name)' is not a database name this tool creates") }
        return "\"\(name)\""
    }

    private static func administer(_ server: PostgresDatabaseURL, _ sql: String) async throws {
        let pool = try PostgresConnectionPool(
            url: server, maximumConnections: 1, logger: Logger(label: "swiftota.database"))
        do {
            try await pool.withConnection { connection in
                _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: connection.logger)
            }
        } catch {
            await pool.close()
            throw PostgresErrors.translate(error, context: "on \(server)")
        }
        await pool.close()
    }
}
