import ArgumentParser
import Foundation
import OTAService

/// `ota serve`'s database: SQLite in the data directory (default), or PostgreSQL shared by several instances.
struct DatabaseOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "PostgreSQL shared by every instance: postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…] "
                + "(default OTA_DATABASE_URL, else SQLite in the data directory).",
            discussion: "sslmode as libpq reads it: disable, allow, prefer (default), require, verify-ca, verify-full "
                + "(with sslrootcert=PATH). Prefer OTA_DATABASE_URL for a URL with a password: command lines are "
                + "visible to every user of the machine. The schema is created or migrated at start."))
    var database: String?
    @Option(help: "Connections this instance keeps to PostgreSQL at most (1–100).")
    var databaseConnections = 8

    /// The database URL from the option or the environment, checked; nil: SQLite.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PostgresDatabaseURL? {
        guard let text = database ?? environment["OTA_DATABASE_URL"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            return nil
        }
        do {
            return try PostgresDatabaseURL(text)
        } catch {
            throw ValidationError("\(error)" + (database == nil ? " (from OTA_DATABASE_URL)" : ""))
        }
    }

    func validate() throws {
        guard (1...100).contains(databaseConnections) else {
            throw ValidationError("--database-connections must be 1–100, not \(databaseConnections)")
        }
        _ = try resolve()
    }

    func apply(to configuration: inout OTAServerConfiguration) throws {
        configuration.database = try resolve()
        configuration.databaseConnections = databaseConnections
    }
}
