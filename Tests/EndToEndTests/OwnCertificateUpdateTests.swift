import ESP32Simulator
import OTAService
import TestSupport
import Testing

// A simulated ESP32 whose certificate came from its factory's CA (made by openssl), registered with the running
// service, updates end to end like any other device; revoked, it can no longer connect.
@Suite(.serialized) struct OwnCertificateUpdateTests {
    @Test func aDeviceWithAFactoryCertificateUpdatesAndIsRefusedOnceRevoked() async throws {
        let setup = try await DeviceUpdateTests.Setup()
        defer { Task { await setup.server.stop() } }
        let pki = try OpenSSLPKI(directory: setup.directory.path("factory-pki"))
        let factory = try await pki.make("factory", commonName: "Factory CA", profile: .authority)
        let issued = try await pki.make("sn-77", commonName: "SN-77", profile: .clientDevice, signedBy: factory)
        _ = try await setup.server.registry.registerCA(certificatePEM: factory.pem)
        _ = try await setup.server.registry.createThing("esp-byo")
        _ = try await setup.server.registry.register(certificatePEM: issued.pem, to: "esp-byo")

        let device = try setup.device("esp-byo", certificatePEM: issued.pem, keyPEM: issued.keyPEM)
        try await setup.update("byo", thing: "esp-byo", image: try setup.image("1.1.0", sign: false))
        try await device.run(timeout: .seconds(60)) { $0.lastEvent == .succeeded(jobID: "AFR_OTA-byo") }
        #expect(try await setup.finishedExecution("byo", "esp-byo")?.status == .succeeded)
        #expect(device.status.runningVersion == "1.1.0")

        _ = try await setup.server.registry.revoke(fingerprint: issued.fingerprint)
        await #expect(throws: (any Error).self, "a revoked certificate cannot connect") {
            try await device.run(timeout: .seconds(5)) { _ in false }
        }
    }
}
