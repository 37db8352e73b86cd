import CodeSigning
import Crypto
import ESP32Formats
import ESP32Simulator
import Foundation
import OTAAgent
import OTAService
import Synchronization
import TestSupport
import Testing

// A simulated ESP32 running OTAAgent updates against the real service over MQTT with mutual TLS: download,
// signature check, secure boot block, activation, reboot, self-test, SUCCEEDED — and a failing self-test rolls
// back and reports FAILED.
@Suite(.serialized) struct DeviceUpdateTests {
    final class Setup: @unchecked Sendable {
        let directory: TemporaryDirectory
        let server: OTAServer
        let port: Int
        let key = P256.Signing.PrivateKey()

        /// `api`: also the HTTPS port, which serves the data plane of HTTP updates; `fileStore`: files elsewhere than
        /// the data directory.
        init(api: Bool = false, fileStore: (any FileStore)? = nil) async throws {
            directory = try TemporaryDirectory("e2e")
            var configuration = OTAServerConfiguration(dataDirectory: directory.path("data"))
            configuration.mqttHost = "127.0.0.1"
            configuration.mqttPort = 0
            configuration.apiHost = "127.0.0.1"
            configuration.apiPort = api ? 0 : nil
            configuration.fileStore = fileStore
            configuration.tickInterval = .milliseconds(200)
            server = try OTAServer(configuration: configuration)
            port = try await server.start()
            let certificate = try CertificateAuthority.selfSignedCodeSigningCertificate(
                key: key, commonName: "e2e code signing", validity: Validity(days: 30))
            try KeyFiles.writePrivateKey(key, to: directory.path("signing.key"))
            _ = try await server.updates.createSigningProfile(
                name: "demo", certificatePEM: try CertificateCoding.encode(certificate),
                keyPath: directory.path("signing.key"), certificatePathOnDevice: nil)
        }

        func image(_ version: String, project: String = "thermostat", sign: Bool) throws -> [UInt8] {
            var generator = SeededGenerator(seed: 7)
            let payload = (0..<60_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let image = try AppImageBuilder.application(
                descriptor: AppDescriptor(version: version, projectName: project), payload: payload,
                secureBootV1Padding: true)
            return sign ? try SecureBootV1Signing.sign(image: image, with: SoftwareSigningKey(key)) : image
        }

        /// A new thing with a certificate from the service CA, as a simulated ESP32.
        func device(_ thing: String) async throws -> SimulatedDevice {
            _ = try await server.registry.createThing(thing)
            let issued = try await server.provisionDevice(thing)
            return try device(thing, certificatePEM: issued.certificatePEM, keyPEM: issued.privateKeyPEM)
        }

        /// A simulated ESP32 connecting as `thing` with whatever certificate and key it was given.
        func device(_ thing: String, certificatePEM: String, keyPEM: String) throws -> SimulatedDevice {
            let chip = try SimulatedChip.manufacture(
                factoryImage: try image("1.0.0", sign: true),
                secureBootKey: PublicKeyCoding.encode(key.publicKey, format: .raw), antiRollback: true)
            return SimulatedDevice(
                chip: chip,
                credentials: DeviceCredentials(
                    thing: thing, certificatePEM: certificatePEM, privateKeyPEM: keyPEM,
                    caPEM: try String(contentsOfFile: server.pki.caCertificatePath, encoding: .utf8)),
                host: "127.0.0.1", port: port, codeSigningKey: key.publicKey)
        }

        func update(_ id: String, thing: String, image: [UInt8], protocols: [String]? = nil) async throws {
            let file = try await server.updates.upload(image, name: "\(id).bin", kind: .app)
            _ = try await server.updates.create(
                CreateUpdateRequest(
                    id: id, fileID: file.id, signingProfile: "demo", things: [thing], protocols: protocols))
        }

        /// The execution once it is terminal (the gateway handles the device's last report asynchronously).
        func finishedExecution(_ id: String, _ thing: String) async throws -> JobExecution? {
            for _ in 0..<200 {
                let execution = try await server.store.read { try $0.execution(jobID: "AFR_OTA-" + id, thing: thing) }
                if execution?.status.isTerminal == true { return execution }
                try await Task.sleep(for: .milliseconds(50))
            }
            return try await server.store.read { try $0.execution(jobID: "AFR_OTA-" + id, thing: thing) }
        }
    }

    /// Every status `device` reports, in order.
    final class ReportedStatuses: Sendable {
        private let statuses = Mutex<[DeviceStatus]>([])
        var all: [DeviceStatus] { statuses.withLock { $0 } }
        func append(_ status: DeviceStatus) { statuses.withLock { $0.append(status) } }
    }

    static func recordStatuses(of device: SimulatedDevice) -> ReportedStatuses {
        let reported = ReportedStatuses()
        device.onStatus = { reported.append($0) }
        return reported
    }

    @Test func aSimulatedDeviceUpdatesEndToEndAndConfirms() async throws {
        let setup = try await Setup()
        defer { Task { await setup.server.stop() } }
        let device = try await setup.device("esp-1")
        let reported = Self.recordStatuses(of: device)
        try await setup.update("good", thing: "esp-1", image: try setup.image("1.1.0", sign: false))
        try await device.run(timeout: .seconds(60)) { $0.lastEvent == .succeeded(jobID: "AFR_OTA-good") }
        #expect(device.status.runningVersion == "1.1.0" && device.status.boots == 2)
        // Each boot starts unheard; the new image's first answer comes after its boot.
        let afterReboot = reported.all.filter { $0.boots == 2 }
        #expect(afterReboot.first?.heardFromService == false && afterReboot.last?.heardFromService == true)
        let execution = try #require(try await setup.finishedExecution("good", "esp-1"))
        #expect(execution.status == .succeeded)
        #expect(execution.statusDetails == #"{"reason":"accepted  v1.1.0","updatedBy":"  v1.0.0"}"#)
        // The confirmed image keeps booting, VALID.
        var chip = device.chip
        let boot = try chip.boot()
        #expect(boot.descriptor.version == "1.1.0" && boot.state == .valid)
    }

    /// `idle` comes at boot, before the device connects; `heardFromService` only once the service answered it
    /// (`ota bench fleet` waits for it so that the fleet's first connections stay out of the update's figures).
    @Test func aDeviceHearsFromTheServiceOnlyAfterItIsIdle() async throws {
        let setup = try await Setup()
        defer { Task { await setup.server.stop() } }
        let device = try await setup.device("esp-1")
        let reported = Self.recordStatuses(of: device)
        try await device.run(timeout: .seconds(30)) { $0.heardFromService }
        let statuses = reported.all
        let first = try #require(statuses.first)
        #expect(first.phase == .idle && !first.heardFromService)
        #expect(statuses.last?.heardFromService == true && statuses.last?.phase == .idle)
        #expect(device.status.heardFromService && device.status.lastEvent == nil)
        // Only one status carries the change: it is reported with the rest of what that message changed.
        #expect(statuses.count { $0.heardFromService } == 1)
    }

    /// Connected is not heard from: a device whose every incoming message is lost never has it.
    @Test func aDeviceThatReceivesNothingHasNotHeardFromTheService() async throws {
        let setup = try await Setup()
        defer { Task { await setup.server.stop() } }
        let device = try await setup.device("esp-1")
        device.faults = DeviceFaults(dropRate: 1)
        await #expect(throws: SimulatedDeviceError.self) {
            try await device.run(timeout: .seconds(3)) { $0.heardFromService }
        }
        #expect(device.status.phase == .idle && !device.status.heardFromService)
    }

    @Test func aFailingSelfTestRollsBackAndReportsFailed() async throws {
        let setup = try await Setup()
        defer { Task { await setup.server.stop() } }
        let device = try await setup.device("esp-2")
        try await setup.update(
            "bad", thing: "esp-2", image: try setup.image("1.2.0", project: "thermo+selftest-fail", sign: false))
        try await device.run(timeout: .seconds(60)) { $0.boots >= 3 && $0.runningVersion == "1.0.0" }
        let execution = try #require(try await setup.finishedExecution("bad", "esp-2"))
        #expect(execution.status == .failed)
        #expect(execution.statusDetails == #"{"reason":"rejected: 0x00000000"}"#)
        #expect(device.status.runningPartition == "factory")
    }

    @Test(arguments: [("+selftest-hang", "rejected: 0x0000000f"), ("+crash", "rejected: 0x00000010")])
    func aHungOrCrashingImageRollsBackAndTheJobFails(marker: String, reason: String) async throws {
        let setup = try await Setup()
        defer { Task { await setup.server.stop() } }
        let device = try await setup.device("esp-3")
        try await setup.update(
            "broken", thing: "esp-3", image: try setup.image("1.3.0", project: "thermo" + marker, sign: false))
        try await device.run(timeout: .seconds(60)) { status in
            if case .failed = status.lastEvent { return status.runningVersion == "1.0.0" }
            return false
        }
        let execution = try #require(try await setup.finishedExecution("broken", "esp-3"))
        #expect(execution.status == .failed)
        #expect(execution.statusDetails == #"{"reason":"\#(reason)"}"#)
        #expect(device.status.runningPartition == "factory")
    }
}
