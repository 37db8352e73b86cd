import CodeSigning
import Crypto
import ESP32Formats
import Foundation
import MQTT
import NIOSSL
import OTAAgent
import OTAWire

// A simulated ESP32 on the network: boots through the bootloader, runs the firmware's declared behaviour, and
// runs OTAAgent over MQTT with mutual TLS against any SwiftOTA (or AWS-compatible) endpoint. An activation or
// a reset reboots it; a failed or unconfirmed self-test rolls back through the bootloader. Update files come over
// MQTT or, when the job document offers it, over HTTP(S) (`dataProtocol` is the device's preference; DeviceHTTP).

/// How simulated firmware behaves, declared in its app descriptor's project name: `+selftest-fail`,
/// `+selftest-hang` or `+crash` anywhere in it. Images without a marker (real ones too) pass their self-test.
public enum FirmwareBehaviour: Equatable, Sendable {
    case passes
    case failsSelfTest
    case hangsInSelfTest
    case crashesAtBoot

    public init(projectName: String) {
        if projectName.contains("+crash") {
            self = .crashesAtBoot
        } else if projectName.contains("+selftest-fail") {
            self = .failsSelfTest
        } else if projectName.contains("+selftest-hang") {
            self = .hangsInSelfTest
        } else {
            self = .passes
        }
    }
}

/// A thing's MQTT identity: its certificate and key from the service CA, and the CA that signed the server.
public struct DeviceCredentials: Sendable {
    public var thing: String
    public var certificatePEM: String
    public var privateKeyPEM: String
    public var caPEM: String

    public init(thing: String, certificatePEM: String, privateKeyPEM: String, caPEM: String) {
        self.thing = thing
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
        self.caPEM = caPEM
    }
}

/// Where a device is in an update, for progress displays.
public enum DevicePhase: String, Sendable, Codable {
    case booting, idle, downloading, verifying, rebooting, selfTest = "self-test", succeeded, failed
}

/// What the device reports while it runs.
public struct DeviceStatus: Sendable {
    public var boots: Int
    public var runningVersion: String
    public var runningPartition: String
    public var lastEvent: AgentEvent?
    public var phase = DevicePhase.booting
    public var blocksReceived = 0
    public var blocksTotal = 0
    /// The protocol of the current or last download (MQTT blocks or HTTP range requests).
    public var dataProtocol: OTADataProtocol?
    /// Since the last boot the device has connected and the service has answered it (its first message came):
    /// the connection's TLS handshake, subscriptions and first job query are behind it. `.idle` comes earlier,
    /// at boot, before the device connects.
    public var heardFromService = false
    public var lastFailure: String?
    /// After the last reboot into a new image: how long, from connecting, the job took to arrive and start the
    /// self-test (the agent resets and rolls back when it takes 16 s).
    public var selfTestWait: Duration?
    /// The app partitions as the chip holds them after the last boot or confirmation.
    public var slots: [SlotReport] = []

    public init(
        boots: Int = 0, runningVersion: String = "", runningPartition: String = "", lastEvent: AgentEvent? = nil
    ) {
        self.boots = boots
        self.runningVersion = runningVersion
        self.runningPartition = runningPartition
        self.lastEvent = lastEvent
    }

    mutating func apply(_ event: AgentEvent) {
        lastEvent = event
        switch event {
        case .downloadStarted(_, _, let resumed):
            phase = .downloading
            blocksReceived = resumed
        case .selfTestStarted: phase = .selfTest
        case .activated, .reset: phase = .rebooting
        case .succeeded: phase = .succeeded
        case .failed(_, let reason):
            phase = .failed
            lastFailure = reason.description
        }
    }
}

/// Agent operations queued for the MQTT client and the HTTP client (the agent is synchronous; they are not).
struct DeviceConnection: OTAConnection {
    enum Operation {
        case publish(String, [UInt8], UInt8)
        case subscribe(String, UInt8)
        case unsubscribe(String)
        case getRange(HTTPRangeRequest)
    }
    var queued: [Operation] = []
    /// Every simulated device can download over both; its preference picks when a document offers both.
    var dataProtocols: OTADataProtocols { [.mqtt, .http] }
    mutating func publish(topic: [UInt8], payload: [UInt8], qos: UInt8) {
        queued.append(.publish(String(decoding: topic, as: UTF8.self), payload, qos))
    }
    mutating func subscribe(_ filter: [UInt8], qos: UInt8) {
        queued.append(.subscribe(String(decoding: filter, as: UTF8.self), qos))
    }
    mutating func unsubscribe(_ filter: [UInt8]) {
        queued.append(.unsubscribe(String(decoding: filter, as: UTF8.self)))
    }
    mutating func getRange(_ request: HTTPRangeRequest) { queued.append(.getRange(request)) }
}

/// Faults a fleet run can inject, drawn from a seeded generator so that a run can be repeated.
public struct DeviceFaults: Sendable {
    /// Probability that an incoming MQTT message is lost.
    public var dropRate = 0.0
    /// Probability, per power-on, that the power is cut at a random one of the next 1,000 flash operations.
    public var powerCutRate = 0.0
    /// Drops the connection now and then (about every 10 s); the device reconnects without rebooting.
    public var flakyNetwork = false
    public var seed: UInt64 = 1

    public init(dropRate: Double = 0, powerCutRate: Double = 0, flakyNetwork: Bool = false, seed: UInt64 = 1) {
        self.dropRate = dropRate
        self.powerCutRate = powerCutRate
        self.flakyNetwork = flakyNetwork
        self.seed = seed
    }

    var isNone: Bool { dropRate == 0 && powerCutRate == 0 && !flakyNetwork }
}

public final class SimulatedDevice: @unchecked Sendable {
    public private(set) var chip: SimulatedChip
    public let credentials: DeviceCredentials
    public let host: String
    public let port: Int
    /// Further service instances to connect to, in turn, when `host:port` cannot be reached (several instances
    /// without a load balancer).
    public var alternateEndpoints: [MQTTEndpoint] = []
    let codeSigningKey: P256.Signing.PublicKey
    /// Keep the factory app as a recovery image when a confirmed update erases the older images (default: erase
    /// it too, so that no signed older firmware stays on the chip).
    public var keepFactoryApp = false
    /// The data protocol used when a job document lists both MQTT and HTTP (the agent's preferred protocol); a
    /// document listing only one is downloaded over that one.
    public var dataProtocol = OTADataProtocol.mqtt
    /// How long one HTTP range request may take before it counts as failed (the agent retries on its 10 s timer).
    public var httpTimeout = Duration.seconds(5)
    /// The CA certificates (PEM) an https:// data URL's server must chain to; nil: the CA of the MQTT connection
    /// (`credentials.caPEM`), which issues the service's own HTTPS certificate. A real S3 endpoint needs its
    /// public root here, as a real device carries it in its HTTP CA file.
    public var httpTrustedCAPEM: String?
    let log: @Sendable (String) -> Void
    /// Called after every boot and every session with the chip as it is then (to save it).
    public var checkpoint: (SimulatedChip) -> Void = { _ in }
    private let started = ContinuousClock.now
    public private(set) var status = DeviceStatus()
    /// Injected faults (none by default).
    public var faults = DeviceFaults() {
        didSet {
            random = SplitMix64(seed: faults.seed)
            cutRandom = SplitMix64(seed: faults.seed ^ 0xC0FFEE)
        }
    }
    private var random = SplitMix64(seed: 1)
    /// Power cuts draw from their own generator, so they do not depend on how many ticks a run had.
    private var cutRandom = SplitMix64(seed: 1)
    /// Called whenever the status changes (from the device's task).
    public var onStatus: @Sendable (DeviceStatus) -> Void = { _ in }
    /// Called for every block received with the time since the request that asked for it (a GetStream publish or
    /// an HTTP range request), as the device sees it: the service's latency plus the network's and this process's.
    public var onBlockLatency: @Sendable (Duration) -> Void = { _ in }
    /// When the last GetStream request left.
    private var blockRequestedAt: ContinuousClock.Instant?

    public init(
        chip: SimulatedChip, credentials: DeviceCredentials, host: String, port: Int,
        codeSigningKey: P256.Signing.PublicKey, log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.chip = chip
        self.credentials = credentials
        self.host = host
        self.port = port
        self.codeSigningKey = codeSigningKey
        self.log = log
    }

    /// Boots and runs sessions (rebooting when the agent activates or resets) until `stop` says so.
    public func run(timeout: Duration, until stop: @escaping (DeviceStatus) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, !Task.isCancelled {
            if faults.powerCutRate > 0, Double(cutRandom.next() % 1_000_000) / 1_000_000 < faults.powerCutRate {
                chip.flash.arm(
                    PowerCutPlan(
                        operation: Int(cutRandom.next() % 1000) + 1, torn: cutRandom.next() % 2 == 0,
                        seed: cutRandom.next()))
            }
            let boot: BootOutcome
            do {
                boot = try chip.boot()
            } catch let cut as PowerCut {
                log("\(credentials.thing): \(cut) during boot; powering on again")
                continue
            }
            checkpoint(chip)
            status.boots += 1
            status.runningVersion = boot.descriptor.version
            status.runningPartition = boot.partition.name
            if status.phase == .rebooting || status.phase == .booting { status.phase = .idle }
            status.heardFromService = false
            onStatus(status)
            boot.log.forEach(log)
            let behaviour = FirmwareBehaviour(projectName: boot.descriptor.projectName)
            if behaviour == .crashesAtBoot {
                log("\(credentials.thing): firmware \(boot.descriptor.version) crashed at boot; rebooting")
                continue
            }
            if stop(status) { return }
            let finished = try await session(boot: boot, behaviour: behaviour, deadline: deadline, stop: stop)
            checkpoint(chip)
            if finished { return }
        }
        if Task.isCancelled { return }
        throw SimulatedDeviceError.timedOut(status)
    }

    enum Input {
        case message(PublishPacket)
        case tick
        case http(HTTPRangeRequest, HTTPRangeFetcher.Response)
    }

    static let tickInterval = Duration.seconds(1)

    /// One power-on period: connect, run the agent, return true when `stop` is satisfied, false to reboot. The
    /// HTTP client lives as long as the power-on: its connections end with it.
    private func session(
        boot: BootOutcome, behaviour: FirmwareBehaviour, deadline: ContinuousClock.Instant,
        stop: (DeviceStatus) -> Bool
    ) async throws -> Bool {
        let http = DeviceHTTP(trustedCAPEM: httpTrustedCAPEM ?? credentials.caPEM, timeout: httpTimeout)
        do {
            let finished = try await session(
                boot: boot, behaviour: behaviour, deadline: deadline, http: http, stop: stop)
            await http.close()
            return finished
        } catch {
            await http.close()
            throw error
        }
    }

    private func session(
        boot: BootOutcome, behaviour: FirmwareBehaviour, deadline: ContinuousClock.Instant, http: DeviceHTTP,
        stop: (DeviceStatus) -> Bool
    ) async throws -> Bool {
        let platform = try ESP32Port(
            chip: chip, boot: boot, codeSigningKey: codeSigningKey, keepFactoryApp: keepFactoryApp
        ) { [started] in
            let elapsed = ContinuousClock.now - started
            return UInt64(elapsed.components.seconds) * 1000
                + UInt64(elapsed.components.attoseconds / 1_000_000_000_000_000)
        }
        let client = try makeClient()
        // A device whose first connect fails (the service not up yet, or busy) tries again, as after a drop.
        try await reconnect(client, deadline: deadline)
        let (inputs, continuation) = AsyncStream<Input>.makeStream()
        let network = Network(client: client, http: http) { continuation.yield(.http($0, $1)) }
        let pump = Task {
            for await message in client.messages { continuation.yield(.message(message)) }
        }
        // The agent's timers are 10 s and 16 s, the watchdog 2 s: a tick a second keeps them within a second, and
        // keeps ten thousand idle devices from costing a core in wake-ups (they did at ten ticks a second).
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.tickInterval)
                continuation.yield(.tick)
            }
        }
        defer {
            pump.cancel()
            ticker.cancel()
            continuation.finish()
        }
        status.slots = (try? platform.chip.slotReport(running: boot.partition)) ?? []
        var agent = OTAAgent(
            thingName: credentials.thing, platform: platform, connection: DeviceConnection(),
            preferredDataProtocol: dataProtocol)
        var events = agent.start()
        let connected = ContinuousClock.now
        // Subscribe and ask for the job now, not at the first input.
        try await flush(&agent, to: network)
        var hangStarted: ContinuousClock.Instant?
        for await input in inputs {
            // What is reported is compared with this: only changes reach the fleet's lock.
            let before = (status.phase, status.blocksReceived, status.heardFromService)
            switch input {
            case .message(let message):
                if faults.dropRate > 0, chance(faults.dropRate) { continue }  // lost on the way
                if let requested = blockRequestedAt, Self.isStreamData(message.topic) {
                    onBlockLatency(.now - requested)
                }
                events += agent.handle(topic: message.topic, payload: message.payload)
                status.heardFromService = true
            case .http(let request, let response):
                if response.status != 206 {
                    let outcome = response.failure ?? "status \(response.status)"
                    log("\(credentials.thing): GET \(request.rangeHeader): \(outcome)")
                }
                events += agent.handleHTTPResponse(to: request, status: response.status, body: response.body)
            case .tick:
                events += agent.tick()
                if faults.flakyNetwork, chance(0.1) {  // about every 10 s
                    log("\(credentials.thing): network lost; reconnecting")
                    await client.dropConnection()
                }
                if !client.isConnected {
                    try await reconnect(client, deadline: deadline)
                    events += agent.reconnected()
                }
            }
            if await powerLost(platform, client) { return false }
            let reported = !events.isEmpty
            if let used = agent.downloadProtocol { status.dataProtocol = used }
            if let progress = agent.downloadProgress {
                status.blocksReceived = progress.received
                status.blocksTotal = progress.total
                if progress.received == progress.total { status.phase = .verifying }
            }
            // What the agent decided after a power cut never happened: the chip was off.
            while !events.isEmpty, platform.poweredOff == nil {
                let event = events.removeFirst()
                status.apply(event)
                log("\(credentials.thing): \(event)")
                // Every agent event follows flash work (a slot erased, written, confirmed, refused): report anew.
                status.slots = (try? platform.chip.slotReport(running: boot.partition)) ?? []
                if case .succeeded = event {
                    log("\(credentials.thing): slots " + status.slots.map(\.summary).joined(separator: ", "))
                }
                if case .selfTestStarted = event {
                    status.selfTestWait = ContinuousClock.now - connected
                    switch behaviour {
                    case .passes: events += agent.acceptImage()
                    case .failsSelfTest: events += agent.rejectImage()
                    default: hangStarted = ContinuousClock.now
                    }
                }
            }
            if await powerLost(platform, client) { return false }
            // Ticks with nothing new stay off the fleet's lock.
            if reported || before != (status.phase, status.blocksReceived, status.heardFromService) {
                onStatus(status)
            }
            do {
                try await flush(&agent, to: network)
            } catch {
                // The connection went away: reconnect (the agent asks for its job again and resumes).
                agent.connection.queued = []
                try await reconnect(client, deadline: deadline)
                events += agent.reconnected()
                try? await flush(&agent, to: network)
            }
            chip = platform.chip
            // A hung self-test trips the watchdog: the device resets and the bootloader rolls back.
            if let hang = hangStarted, ContinuousClock.now - hang > .seconds(2) { platform.reset() }
            if platform.resetRequested || ContinuousClock.now > deadline {
                await client.disconnect()
                client.finish()
                return false
            }
            if stop(status) || Task.isCancelled {
                await client.disconnect()
                client.finish()
                return true
            }
        }
        return false
    }

    /// After a power cut nothing the agent queued leaves the device: drop the link and reboot.
    private func powerLost(_ platform: ESP32Port, _ client: MQTTClient) async -> Bool {
        guard let cut = platform.poweredOff else { return false }
        log("\(credentials.thing): \(cut); powering on again")
        chip = platform.chip
        chip.flash.arm(nil)
        status.phase = .rebooting
        onStatus(status)
        await client.dropConnection()
        client.finish()
        return true
    }

    private func chance(_ probability: Double) -> Bool {
        Double(random.next() % 1_000_000) / 1_000_000 < probability
    }

    /// Connects (first or again), retrying every 200 ms until it works or the run's deadline passes.
    private func reconnect(_ client: MQTTClient, deadline: ContinuousClock.Instant) async throws {
        while true {
            do {
                _ = try await client.connect()
                return
            } catch {
                guard ContinuousClock.now < deadline, !Task.isCancelled else { throw error }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Where the agent's queued operations go: MQTT to the client, range requests to the HTTP client, whose
    /// answers come back as inputs.
    struct Network {
        let client: MQTTClient
        let http: DeviceHTTP
        let answer: @Sendable (HTTPRangeRequest, HTTPRangeFetcher.Response) -> Void
    }

    private func flush(_ agent: inout OTAAgent<ESP32Port, DeviceConnection>, to network: Network) async throws {
        let operations = agent.connection.queued
        agent.connection.queued = []
        let client = network.client
        for operation in operations {
            switch operation {
            case .getRange(let request):
                let sent = ContinuousClock.now
                network.http.start(request) { [onBlockLatency, answer = network.answer] request, response in
                    onBlockLatency(.now - sent)
                    answer(request, response)
                }
            case .publish(let topic, let payload, let qos):
                if Self.isStreamRequest(topic) { blockRequestedAt = .now }
                try await client.publish(topic: topic, payload: payload, qos: qos == 0 ? .atMostOnce : .atLeastOnce)
            case .subscribe(let filter, let qos):
                _ = try await client.subscribe([
                    Subscription(filter: filter, qos: qos == 0 ? .atMostOnce : .atLeastOnce)
                ])
            case .unsubscribe(let filter):
                try await client.unsubscribe([filter])
            }
        }
    }

    /// `$aws/things/T/streams/S/get/…`: a block request (the agent's only publish under `streams/`).
    private static func isStreamRequest(_ topic: String) -> Bool {
        topic.contains("/streams/") && topic.contains("/get/")
    }

    /// `$aws/things/T/streams/S/data/…`: a block.
    private static func isStreamData(_ topic: String) -> Bool {
        topic.contains("/streams/") && topic.contains("/data/")
    }

    /// The key exchange groups an ESP32's TLS stack (ESP-IDF's mbedTLS) offers, in its order. BoringSSL's client
    /// would offer the X25519+ML-KEM-768 hybrid first, which no ESP32 can: a fleet of such devices would cost the
    /// service an ML-KEM encapsulation per handshake that a real fleet never asks for.
    static let keyExchangeGroups: [NIOTLSCurve] = [.x25519, .secp256r1, .secp384r1]

    private func makeClient() throws -> MQTTClient {
        var tls = MQTTClientConfiguration.mutualTLS(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(credentials.certificatePEM.utf8)),
            privateKey: try NIOSSLPrivateKey(bytes: Array(credentials.privateKeyPEM.utf8), format: .pem),
            trustedServerCAs: try NIOSSLCertificate.fromPEMBytes(Array(credentials.caPEM.utf8)))
        tls.curves = Self.keyExchangeGroups
        var configuration = MQTTClientConfiguration(
            host: host, port: port, tls: tls, serverName: "localhost",
            connect: ConnectPacket(clientID: credentials.thing, cleanSession: true, keepAlive: 60))
        configuration.alternateEndpoints = alternateEndpoints
        return MQTTClient(configuration: configuration)
    }
}

public enum SimulatedDeviceError: Error, CustomStringConvertible {
    case timedOut(DeviceStatus)
    public var description: String {
        switch self {
        case .timedOut(let status):
            return "the device did not reach the expected state (running \(status.runningVersion) after "
                + "\(status.boots) boots, last event \(status.lastEvent.map { "\($0)" } ?? "none"))"
        }
    }
}
