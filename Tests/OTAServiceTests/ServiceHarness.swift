import CodeSigning
import Crypto
import ESP32Formats
import Foundation
import MQTT
import NIOSSL
import OTAService
import OTAWire
import Synchronization
import TestSupport

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let seconds = Mutex<Int64>(1_700_000_000)
    var now: Int64 { seconds.withLock { $0 } }
    func advance(by delta: Int64) { seconds.withLock { $0 += delta } }
}

/// A real service on 127.0.0.1 in a temporary data directory, with a manual clock and the rollout tick driven
/// by the test, plus a code-signing key, its self-signed certificate and a signing profile "demo".
final class ServiceHarness: Sendable {
    let directory: TemporaryDirectory
    let clock = ManualClock()
    let server: OTAServer
    let port: Int
    let signingKey: P256.Signing.PrivateKey
    let signingCertificatePEM: String

    /// `configure` adjusts the configuration last (limits, for instance). With `peer`, a second instance of the
    /// same service (both on one PostgreSQL database): it starts with a copy of the peer's PKI, admin token and
    /// data-URL key, as docs/deploy.md tells an operator to give each instance, and shares its signing profile.
    init(peer: ServiceHarness? = nil, configure: (inout OTAServerConfiguration) -> Void = { _ in }) async throws {
        directory = try TemporaryDirectory("ota-service")
        if let peer {
            try SharedInstanceFiles.copy(from: peer.directory.path("data"), to: directory.path("data"))
        }
        var configuration = OTAServerConfiguration(dataDirectory: directory.path("data"))
        configuration.mqttHost = "127.0.0.1"
        configuration.mqttPort = 0
        configuration.apiHost = "127.0.0.1"
        configuration.apiPort = 0
        configuration.tickInterval = .seconds(3600)
        let clock = clock
        configuration.now = { clock.now }
        configuration.mqttAdmission = .underTestLoad
        configuration.apiLimits = APIConnectionLimits(tlsHandshakeTimeout: .seconds(120), idleTimeout: .seconds(120))
        // Cheap hashes: the tests sign in dozens of times, and a standard scrypt costs half a second in debug.
        configuration.passwordHashing = PasswordHash.Parameters(rounds: 1 << 10, blockSize: 8, parallelism: 1)
        configure(&configuration)
        server = try OTAServer(configuration: configuration)
        port = try await server.start()
        if let peer {
            signingKey = peer.signingKey
            signingCertificatePEM = peer.signingCertificatePEM
            return
        }
        signingKey = P256.Signing.PrivateKey()
        let certificate = try CertificateAuthority.selfSignedCodeSigningCertificate(
            key: signingKey, commonName: "Test Code Signing", validity: Validity(days: 30))
        signingCertificatePEM = try CertificateCoding.encode(certificate)
        let keyPath = directory.path("signing.key")
        try KeyFiles.writePrivateKey(signingKey, to: keyPath)
        _ = try await server.updates.createSigningProfile(
            name: "demo", certificatePEM: signingCertificatePEM, keyPath: keyPath, certificatePathOnDevice: nil)
    }

    func shutdown() async { await server.stop() }

    /// An app image of about `size` bytes (version `version`) uploaded as an app file.
    func uploadFirmware(version: String, payloadSize: Int) async throws -> (StoredFile, [UInt8]) {
        var generator = SeededGenerator(seed: UInt64(payloadSize))
        let payload = (0..<payloadSize).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let descriptor = AppDescriptor(
            version: version, projectName: "test-fw", appELFSHA256: Array(SHA256.hash(data: payload)))
        let image = try AppImageBuilder.application(descriptor: descriptor, payload: payload)
        return (try await server.updates.upload(image, name: "fw-\(version).bin", kind: .app), image)
    }

    /// Creates a thing with a service-issued certificate and returns a connected scripted device.
    func device(_ thing: String, attributes: [String: String] = [:]) async throws -> ScriptedDevice {
        _ = try await server.registry.createThing(thing, attributes: attributes)
        let issued = try await server.provisionDevice(thing)
        return try await ScriptedDevice(
            thing: thing, port: port, certificatePEM: issued.certificatePEM, keyPEM: issued.privateKeyPEM,
            caPath: server.pki.caCertificatePath)
    }

    /// The same device connecting again (after a reboot or a dropped link), with the same credentials.
    func reconnect(_ device: ScriptedDevice) async throws -> ScriptedDevice {
        await device.close()
        return try await reconnectWithoutClosing(device)
    }

    /// A second connection of `device`'s thing while the first is still open (it takes the session over).
    func reconnectWithoutClosing(_ device: ScriptedDevice) async throws -> ScriptedDevice {
        try await ScriptedDevice(
            thing: device.thing, port: port, certificatePEM: device.certificatePEM, keyPEM: device.keyPEM,
            caPath: server.pki.caCertificatePath)
    }

    /// Creates update `id` for `things` with the service signing the file under profile "demo".
    func createUpdate(
        _ id: String, file: StoredFile, things: [String] = [], groups: [String] = [],
        configure: (inout CreateUpdateRequest) -> Void = { _ in }
    ) async throws -> OTAUpdate {
        var request = CreateUpdateRequest(
            id: id, fileID: file.id, signingProfile: "demo", things: things, groups: groups)
        configure(&request)
        return try await server.updates.create(request)
    }

    func execution(_ jobID: String, _ thing: String) async throws -> JobExecution? {
        try await server.store.read { try $0.execution(jobID: jobID, thing: thing) }
    }
}
