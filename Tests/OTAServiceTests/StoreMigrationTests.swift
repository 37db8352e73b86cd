import Foundation
import TestSupport
import Testing

@testable import OTAService

// A database an older release left behind opens with the current code: migrations are appended, run once, and
// keep what was there.
struct StoreMigrationTests {
    @Test func aDatabaseFromBeforeRegisteredCAsGainsThem() async throws {
        let directory = try TemporaryDirectory("migration")
        let path = directory.path("ota.sqlite")
        let old = try SQLiteStore(path: path, migratingUpTo: "v1")
        try await old.write { writer in
            try writer.save(Thing(name: "t", createdAt: 1))
            try writer.save(StoreContractTests.certificate("c1", thing: "t", createdAt: 1))
        }
        await #expect(throws: (any Error).self, "v1 has no CA table") {
            try await old.read { _ = try $0.caCertificates() }
        }

        let current = try SQLiteStore(path: path)
        #expect(try await current.read { try $0.deviceCertificates().map(\.fingerprint) } == ["c1"])
        try await current.write { try $0.save(StoreContractTests.authority("ca", createdAt: 2)) }
        #expect(try await current.read { try $0.caCertificates().map(\.fingerprint) } == ["ca"])
    }
}
