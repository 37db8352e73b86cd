import Foundation
import OTAService
import TestSupport
import Testing

// Revoking a certificate ends the live connection that uses it, as operators expect, not only the next one.
@Suite(.serialized) struct LiveRevocationTests {
    @Test func revokingACertificateClosesItsDevicesConnection() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let device = try await service.device("dev")
        let bystander = try await service.device("other")
        let certificates = try await service.server.store.read { try $0.certificates(of: "dev") }
        let fingerprint = try #require(certificates.first?.fingerprint)
        #expect(device.client.isConnected)

        _ = try await service.server.registry.revoke(fingerprint: fingerprint)
        #expect(await eventually { !device.client.isConnected }, "the revoked device's connection is closed")
        #expect(bystander.client.isConnected, "only that device")
        await #expect(throws: (any Error).self, "and it cannot come back") {
            _ = try await service.reconnect(device)
        }
        await bystander.close()
    }
}
