import CodeSigning
import Crypto
import ESP32Formats
import ESP32Simulator
import Foundation
import OTAService
import Synchronization

/// The demo's service, signing key and fleet: everything `ota demo` sets up on a temporary data directory.
public final class DemoWorld: @unchecked Sendable {
    public let dataDirectory: String
    /// The first instance: the demo drives the service through it.
    public let server: OTAServer
    /// The first instance's device port.
    public var mqttPort: Int { mqttPorts[0] }
    /// The other instances on the same database (none with SQLite), each in `DATA/instance-K`.
    public let peers: [OTAServer]
    /// Every instance's device port, the first instance's first; devices are spread over them in turn.
    public let mqttPorts: [Int]
    private let provisioned = Mutex(0)
    /// The device CA every simulated device trusts (read once, not per device).
    let caPEM: String
    let key = P256.Signing.PrivateKey()
    public let fleet = SimulatedFleet()
    public static let group = "demo-fleet"

    /// Starts the service on `dataDirectory` (MQTT on a free port of 127.0.0.1; the management API on `apiPort`, 0
    /// for a free one, nil for none). With a database, `instances` of it cooperate there, as docs/deploy.md runs
    /// them: the others start on copies of the first one's shared files, each with its own ports (their APIs, when
    /// the first has one, on free ports: each serves its devices' HTTPS data-plane downloads).
    public init(dataDirectory: String, apiPort: Int?, database: PostgresDatabaseURL? = nil, instances: Int = 1)
        async throws
    {
        precondition(instances == 1 || database != nil, "several instances share a PostgreSQL database")
        self.dataDirectory = dataDirectory
        func configuration(_ directory: String, apiPort: Int?) -> OTAServerConfiguration {
            var configuration = OTAServerConfiguration(dataDirectory: directory)
            configuration.database = database
            configuration.mqttHost = "127.0.0.1"
            configuration.mqttPort = 0
            configuration.apiHost = "127.0.0.1"
            configuration.apiPort = apiPort
            configuration.tickInterval = .milliseconds(250)
            return configuration
        }
        server = try OTAServer(configuration: configuration(dataDirectory, apiPort: apiPort))
        caPEM = try String(contentsOfFile: server.pki.caCertificatePath, encoding: .utf8)
        var ports = [try await server.start()]
        var peers: [OTAServer] = []
        for number in stride(from: 2, through: instances, by: 1) {
            let directory = dataDirectory + "/instance-\(number)"
            try SharedInstanceFiles.copy(from: dataDirectory, to: directory)
            let peer = try OTAServer(configuration: configuration(directory, apiPort: apiPort.map { _ in 0 }))
            ports.append(try await peer.start())
            peers.append(peer)
        }
        self.peers = peers
        mqttPorts = ports
    }

    /// Stops every instance, the first last.
    public func stop() async {
        for peer in peers { await peer.stop() }
        await server.stop()
    }

    /// A code-signing key (0600) and its self-signed certificate, as profile "demo" (the service signs with it).
    public func createSigningProfile() async throws {
        let certificate = try CertificateAuthority.selfSignedCodeSigningCertificate(
            key: key, commonName: "SwiftOTA demo code signing", validity: Validity(days: 30))
        let keyPath = dataDirectory + "/demo-signing.key"
        try KeyFiles.writePrivateKey(key, to: keyPath)
        _ = try await server.updates.createSigningProfile(
            name: "demo", certificatePEM: try CertificateCoding.encode(certificate), keyPath: keyPath,
            certificatePathOnDevice: nil)
        _ = try await server.registry.createGroup(Self.group, description: "the demo's simulated ESP32s")
    }

    /// Firmware `version` around a seeded payload: padded for secure boot v1; `signed` appends the block (the
    /// factory image), otherwise it is an update file.
    public func firmware(
        _ version: String, project: String = "thermostat", signed: Bool, payloadSize: Int = 120_000
    ) throws -> [UInt8] {
        var generator = SplitMix64(seed: 42)
        let payload = (0..<payloadSize).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let image = try AppImageBuilder.application(
            descriptor: AppDescriptor(version: version, projectName: project), payload: payload,
            secureBootV1Padding: true)
        return signed ? try SecureBootV1Signing.sign(image: image, with: SoftwareSigningKey(key)) : image
    }

    /// A thing in the group with a certificate from the service CA, and its chip (factory 1.0.0, secure boot key
    /// and anti-rollback fused), started.
    func provision(_ thing: String, factory: [UInt8], table: PartitionTable = .twoOTA) async throws {
        let number = provisioned.withLock { count in
            defer { count += 1 }
            return count
        }
        fleet.launch(
            try await makeDevice(thing, factory: factory, table: table, port: mqttPorts[number % mqttPorts.count]))
    }

    /// The same, not started, for a service that will listen on `port` (another process, later).
    public func makeDevice(_ thing: String, factory: [UInt8], table: PartitionTable, port: Int) async throws
        -> SimulatedDevice
    {
        _ = try await server.registry.createThing(thing)
        let issued = try await server.provisionDevice(thing)
        let chip = try SimulatedChip.manufacture(
            factoryImage: factory, table: table, secureBootKey: PublicKeyCoding.encode(key.publicKey, format: .raw),
            antiRollback: true)
        try await server.registry.addMember(thing, to: Self.group)
        return SimulatedDevice(
            chip: chip,
            credentials: DeviceCredentials(
                thing: thing, certificatePEM: issued.certificatePEM, privateKeyPEM: issued.privateKeyPEM,
                caPEM: caPEM),
            host: "127.0.0.1", port: port, codeSigningKey: key.publicKey)
    }

    func executions(_ updateID: String) async throws -> [JobExecution] {
        try await server.store.read { try $0.executions(jobID: "AFR_OTA-" + updateID) }
    }

    func job(_ updateID: String) async throws -> Job? {
        try await server.store.read { try $0.job(id: "AFR_OTA-" + updateID) }
    }
}
