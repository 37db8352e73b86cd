import ArgumentParser
import ESP32Formats
import ESP32Simulator
import Foundation
import Logging
import MQTT
import NIOSSL
import OTAService

/// `ota bench fleet` — one full update of N simulated devices against a local service, in one process.
struct BenchFleetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Update N simulated ESP32s end to end and compare goodput with raw TLS bulk throughput.",
        discussion: """
            The service and the devices share this process (and its two cores): end-to-end time covers download \
            over MQTT/TLS, signature check, secure boot block, reboot, self-test and SUCCEEDED. Memory is the \
            process's peak resident set, which includes every simulated device's 4 MiB flash; the service's share \
            is estimated by subtracting it. Raw TLS bulk moves the same bytes over min(N, 1000) loopback connections.
            """)

    @Option(help: "Simulated devices.") var devices = 1000
    @Option(
        help: "Update image size, e.g. 1MiB.",
        transform: { text in
            guard let value = parseByteCount(text), (64 << 10)...(1_400 << 10) ~= value else {
                throw ValidationError("the image size must be 64 KiB … 1400 KiB (the bench slots are 1.5 MiB)")
            }
            return value
        })
    var imageSize = 1 << 20
    @OptionGroup var output: OutputOptions

    struct Result: Encodable {
        let build: String
        let devices: Int
        let imageBytes: Int
        let succeeded: Int
        let endToEndSeconds: Double
        let perDeviceSecondsP50: Double
        let perDeviceSecondsP90: Double
        let perDeviceSecondsP99: Double
        let goodputMiBPerSecond: Double
        let rawTLSMiBPerSecond: Double
        let ratio: Double
        let processPeakMiB: Double
        let simulatedFlashMiB: Double
        let serviceEstimateMiB: Double
    }

    /// Two 1.5 MiB OTA slots and no factory: room for a 1 MiB image and its secure boot block.
    static let table = PartitionTable(partitions: [
        Partition(name: "nvs", type: .data, subtype: PartitionDataSubtype.nvs, offset: 0x9000, size: 0x4000),
        Partition(name: "otadata", type: .data, subtype: PartitionDataSubtype.ota, offset: 0xD000, size: 0x2000),
        Partition(name: "phy_init", type: .data, subtype: PartitionDataSubtype.phy, offset: 0xF000, size: 0x1000),
        Partition(name: "ota_0", type: .app, subtype: 0x10, offset: 0x10000, size: 0x180000),
        Partition(name: "ota_1", type: .app, subtype: 0x11, offset: 0x190000, size: 0x180000),
    ])

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .critical
            return handler
        }
        let directory = try Timing.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let world = try await DemoWorld(dataDirectory: directory.path, apiPort: nil)
        try await world.createSigningProfile()
        let factory = try world.firmware("1.0.0", signed: true, payloadSize: 20_000)
        progress("provisioning \(devices) devices")
        for index in 1...devices {
            try await world.provision(String(format: "dev-%05d", index), factory: factory, table: Self.table)
            if index % 250 == 0 { progress("  \(index) provisioned") }
        }
        try await BenchDevice.waitUntil(timeout: .seconds(300)) {
            let fleet = world.fleet.snapshot
            return fleet.count == devices && fleet.allSatisfy { $0.status.phase == .idle }
        }

        let image = try world.firmware("1.1.0", signed: false, payloadSize: imageSize - 600)
        let file = try await world.server.updates.upload(image, name: "bench-1.1.0.bin", kind: .app)
        progress("updating \(devices) devices to 1.1.0 (\(image.count) bytes each)")
        let start = ContinuousClock.now
        _ = try await world.server.updates.create(
            CreateUpdateRequest(id: "bench", fileID: file.id, signingProfile: "demo", groups: [DemoWorld.group]))
        var succeeded = 0
        let deadline = start + .seconds(1800)
        while ContinuousClock.now < deadline {
            succeeded = try await world.executions("bench").filter { $0.status == .succeeded }.count
            if succeeded == devices { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let end = ContinuousClock.now
        let times = world.fleet.successTimes.values.map { Timing.milliseconds($0 - start) / 1000 }.sorted()
        func percentile(_ p: Double) -> Double {
            times.isEmpty ? 0 : times[min(times.count - 1, Int(Double(times.count) * p))]
        }
        let peak = Self.peakResidentBytes()
        await world.fleet.stopAll()

        progress("baseline: raw TLS bulk over \(min(devices, 1000)) connections")
        let issued = try world.server.pki.issueDevice("bench-raw")
        let clientContext = try NIOSSLContext(
            configuration: MQTTClientConfiguration.mutualTLS(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(issued.certificatePEM.utf8)),
                privateKey: try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem),
                trustedServerCAs: try NIOSSLCertificate.fromPEMFile(world.server.pki.caCertificatePath)))
        let connections = min(devices, 1000)
        let raw = try await RawTLSBulk.throughput(
            serverContext: try BenchJobsCommand.serverContext(world.server.pki),
            clientContexts: Array(repeating: clientContext, count: connections),
            bytesPerConnection: image.count * devices / connections)
        await world.server.stop()

        let seconds = Timing.milliseconds(end - start) / 1000
        let goodput = Double(succeeded * image.count) / seconds
        let flash = Double(devices * SimulatedFlashGeometry.defaultChipSize) / 1_048_576
        let result = Result(
            build: Timing.buildConfiguration, devices: devices, imageBytes: image.count, succeeded: succeeded,
            endToEndSeconds: seconds, perDeviceSecondsP50: percentile(0.5), perDeviceSecondsP90: percentile(0.9),
            perDeviceSecondsP99: percentile(0.99), goodputMiBPerSecond: goodput / 1_048_576,
            rawTLSMiBPerSecond: raw / 1_048_576, ratio: goodput / raw, processPeakMiB: Double(peak) / 1_048_576,
            simulatedFlashMiB: flash, serviceEstimateMiB: max(0, Double(peak) / 1_048_576 - flash))
        try output.emit(result) { Self.render(result) }
    }

    static func render(_ r: Result) -> String {
        func f(_ value: Double) -> String { String(format: "%.2f", value) }
        return """
            ota bench fleet (\(r.build) build; \(r.devices) devices × \(r.imageBytes) bytes)
              succeeded                         \(r.succeeded)/\(r.devices)
              end to end                        \(f(r.endToEndSeconds)) s
              per device p50 / p90 / p99        \(f(r.perDeviceSecondsP50)) / \(f(r.perDeviceSecondsP90)) / \(f(r.perDeviceSecondsP99)) s
              goodput                           \(f(r.goodputMiBPerSecond)) MiB/s
              raw TLS bulk, same bytes          \(f(r.rawTLSMiBPerSecond)) MiB/s
              ratio goodput / raw TLS           \(f(r.ratio))x (target >= 0.5x)
              process peak memory               \(f(r.processPeakMiB)) MiB (simulated flash \(f(r.simulatedFlashMiB)) MiB; \
            service estimate \(f(r.serviceEstimateMiB)) MiB, target < 2048 MiB at 10,000 devices)
            """
                + (r.build == "debug" ? "\n  note: debug build; use swift run -c release ota bench fleet" : "")
    }

    /// VmHWM: the peak resident set of this process.
    static func peakResidentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kib * 1024
    }
}
