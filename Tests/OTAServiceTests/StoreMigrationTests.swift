import Foundation
import TestSupport
import Testing

@testable import OTAService

// A database an older release left behind opens with the current code: migrations are appended, run once, and
// keep what was there.
struct StoreMigrationTests {
    @Test func aDatabaseFromBeforeRegisteredCAsAndCertificateLinksGainsThem() async throws {
        let directory = try TemporaryDirectory("migration")
        let path = directory.path("ota.sqlite")
        let old = try SQLiteStore(path: path, migratingUpTo: "v1")
        try await old.write { writer in
            try writer.save(Thing(name: "t", createdAt: 1))
        }
        // A certificate row as v1 wrote it (no chainPEM, no issuerCA).
        try old.execute(
            sql: "INSERT INTO deviceCertificate (fingerprint, thingName, pem, status, notAfter, createdAt) "
                + "VALUES ('c1', 't', 'PEM', 'ACTIVE', 0, 1)")
        await #expect(throws: (any Error).self, "v1 has no CA table") {
            try await old.read { _ = try $0.caCertificates() }
        }

        let current = try SQLiteStore(path: path)
        let kept = try await current.read { try $0.deviceCertificates() }
        #expect(kept.map(\.fingerprint) == ["c1"] && kept[0].issuerCA == nil && kept[0].chainPEM == nil)
        var linked = kept[0]
        linked.issuerCA = "ca"
        let record = linked
        try await current.write { try $0.save(record) }
        #expect(try await current.read { try $0.certificate(fingerprint: "c1")?.issuerCA } == "ca")
        try await current.write { try $0.save(StoreContractTests.authority("ca", createdAt: 2)) }
        #expect(try await current.read { try $0.caCertificates().map(\.fingerprint) } == ["ca"])
    }
}
