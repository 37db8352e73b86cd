import ESP32Formats
import Foundation
import MQTT
import NIOSSL
import OTAService
import OTAWire

/// `ota bench jobs`: rollout fan-out and stream serving of the real service, in process, over loopback TLS.
///
/// A service with a fresh data directory gets a static group of `things` things, of which `connected` connect over
/// MQTT with mutual TLS (each with its own certificate) and subscribe to notify-next. Then an update for the group is
/// created and timed until every execution exists and every connected device has its notify-next. Finally
/// `downloaders` devices download the whole image in 4 KiB blocks (32 per get/cbor request), and the same
/// connections' worth of raw TLS bulk transfer on loopback is the baseline.
public struct JobsBenchmark: Sendable {
    /// Things in the target group.
    public var things: Int
    /// Of those, devices connected over MQTT.
    public var connected: Int
    /// Connected devices that download the whole image.
    public var downloaders: Int
    /// Downloads of the whole image per device (and raw TLS rounds); the median round is reported.
    public var rounds: Int
    /// Image size in bytes, 64 KiB … 4 MiB.
    public var imageSize: Int

    /// Needs things >= connected >= downloaders >= 1 and rounds >= 1 (`ota bench jobs` checks them).
    public init(things: Int, connected: Int, downloaders: Int, rounds: Int, imageSize: Int) {
        self.things = things
        self.connected = connected
        self.downloaders = downloaders
        self.rounds = rounds
        self.imageSize = imageSize
    }

    public struct Result: Encodable {
        let build: String
        let things: Int
        let connected: Int
        let connectSeconds: Double
        let executionsMilliseconds: Double
        let notifyMilliseconds: Double
        let downloaders: Int
        let imageBytes: Int
        let streamBlocksPerSecond: Double
        let streamMiBPerSecond: Double
        let rawTLSMiBPerSecond: Double
        let ratio: Double
        let target: Double
    }

    /// Runs the service in this process on a fresh data directory and measures it over loopback TLS.
    public func run() async throws -> Result {
        let directory = try Timing.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = OTAServerConfiguration(dataDirectory: directory.path)
        configuration.mqttHost = "127.0.0.1"
        configuration.mqttPort = 0
        configuration.apiPort = nil
        configuration.tickInterval = .seconds(3600)  // the bench drives the rollout itself
        let server = try OTAServer(configuration: configuration)
        let port = try await server.start()
        defer { Task { await server.stop() } }

        progress("registering \(things) things in group bench-fleet")
        let names = (0..<things).map { "bench-\($0)" }
        try await Self.register(names, in: server)
        _ = try await server.updates.createGeneratedSigningProfile(
            name: "bench", keyDirectory: directory.path, certificatePathOnDevice: nil)
        let image = try AppImageBuilder.application(
            descriptor: AppDescriptor(version: "9.0.0", projectName: "bench"),
            payload: Timing.randomBytes(imageSize - 512))
        let file = try await server.updates.upload(image, name: "bench.bin", kind: .app)

        progress("connecting \(connected) devices (mutual TLS, one certificate each)")
        let connectStart = ContinuousClock.now
        let devices = try await BenchDevice.connect(Array(names.prefix(connected)), server: server, port: port)
        let connectSeconds = Timing.milliseconds(ContinuousClock.now - connectStart) / 1000

        progress("creating the update and rolling it out")
        let start = ContinuousClock.now
        _ = try await server.updates.create(
            CreateUpdateRequest(id: "bench", fileID: file.id, signingProfile: "bench", groups: ["bench-fleet"]))
        while try await server.store.read({ try $0.pendingTargetCount(jobID: "AFR_OTA-bench") }) > 0 {
            try await server.engine.tick()
        }
        let executionsDone = ContinuousClock.now
        try await BenchDevice.waitUntil(timeout: .seconds(120)) { devices.allSatisfy(\.notified) }
        let notifyDone = ContinuousClock.now

        progress("streaming: \(downloaders) devices download \(image.count) bytes each, \(rounds) rounds")
        let job = try await server.store.read { try $0.job(id: "AFR_OTA-bench") }
        guard let job else { throw BenchError.jobMissing }
        let streaming = Array(devices.prefix(downloaders))
        for device in streaming { await device.client.disconnect() }
        let downloadersConnected = try await LeanDownloader.connect(
            devices: streaming.map { ($0.thing, $0.sslContext) }, port: port, streamID: job.streamID,
            fileSize: image.count)
        var streamRounds: [Duration] = []
        for _ in 0..<rounds {
            let roundStart = ContinuousClock.now
            let downloads = downloadersConnected.map { $0.1.begin() }
            for download in downloads { try await download.get() }
            streamRounds.append(ContinuousClock.now - roundStart)
        }
        for (channel, _) in downloadersConnected { try? await channel.close() }
        let streamSeconds = Timing.milliseconds(Timing.median(streamRounds)) / 1000
        let blocks = downloaders * ((image.count + 4095) / 4096)

        progress("baseline: raw TLS bulk transfer over \(downloaders) connections, \(rounds) rounds")
        var rawRounds: [Double] = []
        for _ in 0..<rounds {
            rawRounds.append(
                try await RawTLSBulk.throughput(
                    serverContext: try Self.serverContext(server.pki),
                    clientContexts: streaming.map(\.sslContext), bytesPerConnection: image.count))
        }
        let raw = rawRounds.sorted()[rawRounds.count / 2]
        for device in devices { await device.client.disconnect() }

        let streamBytesPerSecond = Double(downloaders * image.count) / streamSeconds
        return Result(
            build: Timing.buildConfiguration, things: things, connected: devices.count, connectSeconds: connectSeconds,
            executionsMilliseconds: Timing.milliseconds(executionsDone - start),
            notifyMilliseconds: Timing.milliseconds(notifyDone - start), downloaders: downloaders,
            imageBytes: image.count, streamBlocksPerSecond: Double(blocks) / streamSeconds,
            streamMiBPerSecond: streamBytesPerSecond / 1_048_576, rawTLSMiBPerSecond: raw / 1_048_576,
            ratio: streamBytesPerSecond / raw, target: 0.5)
    }

    public static func render(_ r: Result) -> String {
        """
        ota bench jobs (\(r.build) build; \(r.things) things in the group, \(r.connected) connected in \
        \(Timing.format(r.connectSeconds)) s)
          create update → all \(r.things) executions exist        \(Timing.format(r.executionsMilliseconds)) ms
          create update → notify-next on all \(r.connected) devices     \(Timing.format(r.notifyMilliseconds)) ms
          stream serving, \(r.downloaders) devices × \(r.imageBytes) bytes   \(String(format: "%.0f", r.streamBlocksPerSecond)) \
        blocks/s  \(Timing.format(r.streamMiBPerSecond)) MiB/s
          raw TLS bulk, same connections and bytes       \(Timing.format(r.rawTLSMiBPerSecond)) MiB/s
          ratio stream / raw TLS: \(Timing.format(r.ratio))x (target >= \(r.target)x)\
        \(r.build == "debug" ? "\n  note: debug build; use swift run -c release ota bench jobs" : "")
        """
    }

    /// Things and group membership in one transaction: the bench measures the rollout, not registration.
    static func register(_ names: [String], in server: OTAServer) async throws {
        let time = Int64(Date().timeIntervalSince1970)
        try await server.store.write { writer in
            try writer.save(ThingGroup(name: "bench-fleet", createdAt: time))
            for name in names {
                try writer.save(Thing(name: name, createdAt: time))
                try writer.addMember(name, to: "bench-fleet")
            }
        }
    }

    static func serverContext(_ pki: ServicePKI) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pki.serverCertificatePath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pki.serverKeyPath, format: .pem)))
        tls.certificateVerification = .noHostnameVerification
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pki.caCertificatePath))
        return try NIOSSLContext(configuration: tls)
    }
}
