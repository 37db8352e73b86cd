import Foundation
import OTAService
import TestSupport
import Testing

// Devices that bring their own certificate (made by openssl: a factory CA and a device certificate it signed, a
// self-signed device certificate) connect to the running service with mosquitto_pub once registered through the
// management API — without a restart — as their registered thing only, and are refused once revoked, or once their
// CA is deactivated. A CA nobody registered is refused whatever its certificates say.
@Suite(.serialized) struct BringYourOwnCertificateTests {
    final class Setup: Sendable {
        let service: ServiceHarness
        let api: APICaller
        let pki: OpenSSLPKI

        init() async throws {
            service = try await ServiceHarness()
            api = try APICaller(service, token: try TokenFile.read(service.server.adminToken.path))
            pki = try OpenSSLPKI(directory: service.directory.path("factory-pki"))
        }

        func shutdown() async {
            await api.shutdown()
            await service.shutdown()
        }

        /// A JSON object of strings (PEM has newlines to escape).
        func json(_ object: [String: String]) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }

        func post(_ path: String, _ body: [String: String] = [:]) async throws -> APICaller.Answer {
            try await api.call(.POST, path, json: try json(body))
        }

        /// mosquitto_pub publishing one QoS 1 message on the device's own jobs topic: true when it was accepted.
        func connects(_ device: OpenSSLPKI.Issued, as clientID: String) async throws -> Bool {
            let result = try await ExternalTools.run(
                "mosquitto_pub",
                [
                    "-h", "127.0.0.1", "-p", "\(service.port)", "--cafile", service.server.pki.caCertificatePath,
                    "--cert", device.certificatePath, "--key", device.keyPath, "-i", clientID, "-q", "1",
                    "-t", "$aws/things/\(clientID)/jobs/get", "-m", "{}",
                ])
            return result.status == 0
        }
    }

    /// A device whose certificate comes from an intermediate of a registered factory CA, registered with its chain
    /// (or before the CA was registered): deactivating the CA refuses it even when it leaves the intermediate out of
    /// its handshake, which mosquitto_pub does (it sends only --cert).
    @Test func deactivatingACAReachesDevicesThatLeaveTheirIntermediateOut() async throws {
        let setup = try await Setup()
        defer { Task { await setup.shutdown() } }
        let factory = try await setup.pki.make("factory", commonName: "Factory CA", profile: .authority)
        let line = try await setup.pki.make("line", commonName: "Line 2 CA", profile: .authority, signedBy: factory)
        let bundled = try await setup.pki.make("sn-1", commonName: "SN-1", profile: .clientDevice, signedBy: line)
        let early = try await setup.pki.make("sn-2", commonName: "SN-2", profile: .clientDevice, signedBy: factory)
        let registry = setup.service.server.registry
        for thing in ["thermostat-1", "thermostat-2"] { _ = try await registry.createThing(thing) }
        // Registered before its CA: linked when the CA is registered.
        let before = try await registry.register(certificatePEM: early.pem, to: "thermostat-2")
        #expect(before.issuerCA == nil)
        _ = try await setup.post("/api/v1/ca-certificates", ["certificatePEM": factory.pem])
        // Registered with its chain: linked at once.
        let withChain = try await registry.register(certificatePEM: bundled.pem + line.pem, to: "thermostat-1")
        #expect(withChain.issuerCA == factory.fingerprint)
        let stored = try await setup.service.server.store.read { try $0.certificate(fingerprint: early.fingerprint) }
        #expect(stored?.issuerCA == factory.fingerprint)

        #expect(try await setup.connects(bundled, as: "thermostat-1"))
        #expect(try await setup.connects(early, as: "thermostat-2"))
        let deactivated = try await setup.post("/api/v1/ca-certificates/\(factory.fingerprint)/deactivate")
        #expect(deactivated.status == 200, "\(deactivated.text)")
        #expect(try await !setup.connects(bundled, as: "thermostat-1"), "the leaf alone, its CA inactive")
        #expect(try await !setup.connects(early, as: "thermostat-2"))
    }

    @Test func aFactoryCAsDevicesConnectOnceRegisteredAndStopWhenDeactivatedOrRevoked() async throws {
        let setup = try await Setup()
        defer { Task { await setup.shutdown() } }
        let factory = try await setup.pki.make("factory", commonName: "Factory CA", profile: .authority)
        let device = try await setup.pki.make(
            "sn-0001", commonName: "SN-0001", profile: .clientDevice, signedBy: factory)
        _ = try await setup.service.server.registry.createThing("thermostat-1")
        _ = try await setup.service.server.registry.createThing("thermostat-2")
        #expect(try await !setup.connects(device, as: "thermostat-1"), "nothing registered yet")

        let registered = try await setup.post("/api/v1/ca-certificates", ["certificatePEM": factory.pem])
        #expect(registered.status == 201, "\(registered.text)")
        #expect(try registered.object()["fingerprint"] as? String == factory.fingerprint)
        #expect(try await !setup.connects(device, as: "thermostat-1"), "the CA is registered, the certificate is not")

        let bound = try await setup.post(
            "/api/v1/things/thermostat-1/certificates/register", ["certificatePEM": device.pem])
        #expect(bound.status == 201, "\(bound.text)")
        #expect(try await setup.connects(device, as: "thermostat-1"))
        // The registration names the thing: not the CN, not another thing.
        #expect(try await !setup.connects(device, as: "SN-0001"))
        #expect(try await !setup.connects(device, as: "thermostat-2"))
        let elsewhere = try await setup.post(
            "/api/v1/things/thermostat-2/certificates/register", ["certificatePEM": device.pem])
        #expect(elsewhere.status == 409, "one certificate, one thing: \(elsewhere.text)")

        let listed = try await setup.api.call(.GET, "/api/v1/ca-certificates").json() as? [[String: Any]]
        #expect(listed?.map { $0["status"] as? String } == ["ACTIVE"])
        let deactivated = try await setup.post("/api/v1/ca-certificates/\(factory.fingerprint)/deactivate")
        #expect(try deactivated.object()["status"] as? String == "INACTIVE")
        #expect(try await !setup.connects(device, as: "thermostat-1"), "its CA is inactive")
        #expect(try await setup.post("/api/v1/ca-certificates/\(factory.fingerprint)/activate").status == 200)
        #expect(try await setup.connects(device, as: "thermostat-1"))

        #expect(try await setup.post("/api/v1/certificates/\(device.fingerprint)/revoke").status == 200)
        #expect(try await !setup.connects(device, as: "thermostat-1"), "revoked")
        let again = try await setup.post(
            "/api/v1/things/thermostat-1/certificates/register", ["certificatePEM": device.pem])
        #expect(again.status == 409, "a revocation is final: \(again.text)")
        #expect(try await !setup.connects(device, as: "thermostat-1"))
    }

    @Test func aSelfSignedCertificateRegisteredWithoutCAConnectsUntilRevoked() async throws {
        let setup = try await Setup()
        defer { Task { await setup.shutdown() } }
        let device = try await setup.pki.make("selfie", commonName: "not-a-thing-name", profile: .clientDevice)
        _ = try await setup.service.server.registry.createThing("selfie-1")
        #expect(try await !setup.connects(device, as: "selfie-1"))
        let bound = try await setup.post(
            "/api/v1/things/selfie-1/certificates/register", ["certificatePEM": device.pem])
        #expect(bound.status == 201, "\(bound.text)")
        #expect(try await setup.connects(device, as: "selfie-1"))
        #expect(try await !setup.connects(device, as: "not-a-thing-name"))
        _ = try await setup.service.server.registry.revoke(fingerprint: device.fingerprint)
        #expect(try await !setup.connects(device, as: "selfie-1"))
    }

    @Test func anUnregisteredForeignCAIsRefusedAndServiceDevicesStillConnect() async throws {
        let setup = try await Setup()
        defer { Task { await setup.shutdown() } }
        let registeredCA = try await setup.pki.make("factory", commonName: "Factory CA", profile: .authority)
        #expect(try await setup.post("/api/v1/ca-certificates", ["certificatePEM": registeredCA.pem]).status == 201)
        let stranger = try await setup.pki.make("stranger", commonName: "Stranger CA", profile: .authority)
        // Its CN names an existing thing, which earns it nothing.
        let intruder = try await setup.pki.make(
            "intruder", commonName: "esp-1", profile: .clientDevice, signedBy: stranger)
        let device = try await setup.service.device("esp-1")
        defer { Task { await device.close() } }
        #expect(try await !setup.connects(intruder, as: "esp-1"))

        let notACA = try await setup.post("/api/v1/ca-certificates", ["certificatePEM": intruder.pem])
        #expect(notACA.status == 400, "\(notACA.text)")
        #expect(try await setup.post("/api/v1/ca-certificates", ["certificatePEM": registeredCA.pem]).status == 409)
        let servicePEM = try String(contentsOfFile: setup.service.server.pki.caCertificatePath, encoding: .utf8)
        #expect(try await setup.post("/api/v1/ca-certificates", ["certificatePEM": servicePEM]).status == 400)
    }
}
