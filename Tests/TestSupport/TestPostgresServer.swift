import Foundation

/// The PostgreSQL server the tests use, named by OTA_TEST_DATABASE_URL (scripts/test starts a throwaway cluster with
/// scripts/postgres-cluster and sets it). Without it a PostgreSQL test fails and says how to get one: never a silent
/// skip.
public enum TestPostgresServer {
    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String {
            "this test needs PostgreSQL: run `scripts/postgres-cluster start DIR` and export the "
                + "OTA_TEST_DATABASE_URL it prints (scripts/test does both)"
        }
    }

    /// The server's URL (its maintenance database), as the environment gives it.
    public static func url() throws -> String {
        guard let text = ProcessInfo.processInfo.environment["OTA_TEST_DATABASE_URL"], !text.isEmpty else {
            throw NotConfigured()
        }
        return text
    }
}
