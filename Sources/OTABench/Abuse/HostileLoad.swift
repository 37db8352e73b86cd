import Foundation
import MQTT
import NIOSSL
import OTADemo
import OTAWire
import RawClients
import Synchronization

/// The attacks of the hardening issue, replayed at scale against a running service while a fleet updates
/// (`ota bench abuse`). Each runs in its own tasks until stopped, re-opening what the service closes:
/// - unauthenticated sockets on the device port from several source addresses, silent or half a TLS record;
/// - API sockets: silent TCP, and TLS connections trickling a request head a byte a second (slowloris);
/// - a device that subscribes to its own topic at QoS 1, publishes to it and never acknowledges;
/// - a device that stops reading and floods GetStream requests;
/// - a device that floods Jobs requests with oversized and many-keyed JSON;
/// - a device that publishes retained 100 KB messages to ever new topics.
/// The attacking devices are registered things with certificates (a compromised device), outside the fleet's group.
public final class HostileLoad: FleetDisturbance, @unchecked Sendable {
    /// How hard each attack pushes.
    public struct Strength: Sendable {
        /// Source addresses (127.0.0.2 …) holding unauthenticated device-port sockets, and sockets each tries to hold.
        public var addresses = 10
        public var socketsPerAddress = 150
        /// API sockets held: half silent TCP, half TLS slowloris.
        public var apiSockets = 100
        /// How long the attacks run before the update starts. The default outlasts the service's default deadlines
        /// (10 s handshake and CONNECT, 30 s API idle): the update meets the attacks with the service shedding.
        public var buildUp = Duration.seconds(35)

        public init() {}
    }

    public var buildUp: Duration { strength.buildUp }
    let strength: Strength
    private let things = ["abuse-qos1-hog", "abuse-non-reader", "abuse-json-keys", "abuse-retainer"]
    /// TLS contexts made in `prepare`: each attacking thing's (its certificate), and "api" (trusting the CA only).
    private let contexts = Mutex<[String: NIOSSLContext]>([:])
    private let tasks = Mutex<[Task<Void, Never>]>([])
    let tallies: [AttackTally] = [
        AttackTally("unauthenticated device-port sockets"), AttackTally("API sockets (silent and slowloris)"),
        AttackTally("QoS 1 subscriber that never acknowledges"), AttackTally("device that stops reading, GetStream"),
        AttackTally("device flooding Jobs requests with big JSON"), AttackTally("device publishing retained 100 KB"),
    ]

    public init(strength: Strength = Strength()) {
        self.strength = strength
    }

    public func prepare(_ world: DemoWorld) async throws {
        let ca = try NIOSSLCertificate.fromPEMFile(world.server.pki.caCertificatePath)
        for thing in things {
            _ = try await world.server.registry.createThing(thing)
            let issued = try await world.server.provisionDevice(thing)
            let tls = MQTTClientConfiguration.mutualTLS(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(issued.certificatePEM.utf8)),
                privateKey: try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem),
                trustedServerCAs: ca)
            let context = try NIOSSLContext(configuration: tls)
            contexts.withLock { $0[thing] = context }
        }
        var api = TLSConfiguration.makeClientConfiguration()
        api.trustRoots = .certificates(ca)
        let apiContext = try NIOSSLContext(configuration: api)
        contexts.withLock { $0["api"] = apiContext }
    }

    public func start(mqttPort: Int, apiPort: Int) async throws {
        let contexts = contexts.withLock { $0 }
        func device(_ index: Int) -> (String, NIOSSLContext) { (things[index], contexts[things[index]]!) }
        var started: [Task<Void, Never>] = []
        for address in 0..<strength.addresses {
            let opening: [UInt8]? = address % 2 == 0 ? nil : [0x16, 0x03, 0x01, 0x02, 0x00, 0x01]
            started.append(
                Task { [self] in
                    await holdSockets(
                        port: mqttPort, from: "127.0.0.\(address + 2)", count: strength.socketsPerAddress, tls: nil,
                        opening: opening, trickle: false, tally: tallies[0])
                })
        }
        let apiHalf = strength.apiSockets / 2
        let head = Array("GET /api/v1/status HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".utf8)
        started.append(
            Task { [self] in
                await holdSockets(
                    port: apiPort, from: "127.0.1.2", count: apiHalf, tls: nil, opening: nil, trickle: false,
                    tally: tallies[1])
            })
        started.append(
            Task { [self] in
                await holdSockets(
                    port: apiPort, from: "127.0.1.3", count: apiHalf, tls: contexts["api"], opening: head,
                    trickle: true, tally: tallies[1])
            })
        started.append(Task { [self] in await neverAcknowledge(port: mqttPort, device(0), tally: tallies[2]) })
        started.append(Task { [self] in await neverRead(port: mqttPort, device(1), tally: tallies[3]) })
        started.append(Task { [self] in await floodJobsRequests(port: mqttPort, device(2), tally: tallies[4]) })
        started.append(Task { [self] in await publishRetained(port: mqttPort, device(3), tally: tallies[5]) })
        tasks.withLock { $0 = started }
    }

    public func stop() async -> [String] {
        let running = tasks.withLock { tasks in
            defer { tasks = [] }
            return tasks
        }
        for task in running { task.cancel() }
        for task in running { await task.value }
        return tallies.map(\.line)
    }

    // MARK: The attacks

    /// Keeps up to `count` sockets open from `address`, opening at most 30 a second, counting those the service
    /// closes; `opening` is sent on each new one, and `trickle` sends one more byte on each every second.
    private func holdSockets(
        port: Int, from address: String, count: Int, tls: NIOSSLContext?, opening: [UInt8]?, trickle: Bool,
        tally: AttackTally
    ) async {
        var open: [RawConnection] = []
        var tick = 0
        while !Task.isCancelled {
            let before = open.count
            open.removeAll { $0.isClosed }
            tally.closed(before - open.count)
            for _ in 0..<min(3, count - open.count) {
                do {
                    let connection = try await RawConnection(
                        port: port, context: tls, serverHostname: "localhost", from: address, keepingBytes: false)
                    tally.opened()
                    if let opening { try? await connection.send(opening) }
                    open.append(connection)
                } catch {
                    tally.refused()
                }
            }
            tick += 1
            if trickle && tick % 10 == 0 {
                for connection in open { try? await connection.send([0x61]) }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        for connection in open { await connection.close() }
    }

    /// Connects as `device` (CONNECT, then `setUp`), runs `attack` until the service closes the connection, and
    /// reconnects, until cancelled.
    private func asDevice(
        port: Int, _ device: (thing: String, tls: NIOSSLContext), tally: AttackTally, setUp: [MQTTPacket] = [],
        attack: (RawConnection) async throws -> Void
    ) async {
        while !Task.isCancelled {
            guard
                let connection = try? await RawConnection(
                    port: port, context: device.tls, serverHostname: "localhost", keepingBytes: false)
            else {
                tally.refused()
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            tally.opened()
            let connect = MQTTPacket.connect(ConnectPacket(clientID: device.thing, keepAlive: 600))
            // A send fails once the service has closed the connection: that ends this round like a close does.
            try? await connection.send(([connect] + setUp).flatMap(\.encoded))
            try? await attack(connection)
            if !Task.isCancelled { tally.closed() }
            await connection.close()
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Subscribes to its own topic at QoS 1, publishes 1 KiB messages to it as fast as the socket takes them, and
    /// never acknowledges what it is sent.
    private func neverAcknowledge(port: Int, _ device: (String, NIOSSLContext), tally: AttackTally) async {
        let topic = "$aws/things/\(device.0)/loop"
        let subscribe = MQTTPacket.subscribe(
            packetID: 1, subscriptions: [Subscription(filter: topic, qos: .atLeastOnce)])
        await asDevice(port: port, device, tally: tally, setUp: [subscribe]) { connection in
            var id: UInt16 = 1
            while !connection.isClosed && !Task.isCancelled {
                let bytes = MQTTPacket.publish(
                    PublishPacket(
                        topic: topic, payload: [UInt8](repeating: 0x55, count: 1024), qos: .atLeastOnce,
                        packetID: id)
                ).encoded
                try await connection.send(bytes)
                tally.sent(bytes.count)
                id = id == .max ? 1 : id + 1
            }
        }
    }

    /// Stops reading its socket, then asks for blocks of a stream over and over.
    private func neverRead(port: Int, _ device: (String, NIOSSLContext), tally: AttackTally) async {
        let request = MQTTPacket.publish(
            PublishPacket(
                topic: "$aws/things/\(device.0)/streams/AFR_OTA-bench/get/cbor",
                payload: StreamRequest(
                    clientToken: "x", fileID: 0, blockSize: 4096, bitmap: [UInt8](repeating: 0xFF, count: 32),
                    numberOfBlocks: 256
                ).cborEncoded)
        ).encoded
        await asDevice(port: port, device, tally: tally) { connection in
            try await connection.stopReading()
            while !connection.isClosed && !Task.isCancelled {
                try await connection.send(request)
                tally.sent(request.count)
            }
        }
    }

    /// Jobs requests as fast as the socket takes them: one of 8,000 keys (72 KB, over the request limits) and one
    /// just inside them, in turn.
    private func floodJobsRequests(port: Int, _ device: (String, NIOSSLContext), tally: AttackTally) async {
        let topic = "$aws/things/\(device.0)/jobs/get"
        func body(keys: Int, valueBytes: Int) -> [UInt8] {
            let value = String(repeating: "v", count: valueBytes)
            return Array(("{" + (0..<keys).map { "\"k\($0)\":\"\(value)\"" }.joined(separator: ",") + "}").utf8)
        }
        let requests = [body(keys: 8000, valueBytes: 1), body(keys: 60, valueBytes: 480)].map {
            MQTTPacket.publish(PublishPacket(topic: topic, payload: $0)).encoded
        }
        await asDevice(port: port, device, tally: tally) { connection in
            var index = 0
            while !connection.isClosed && !Task.isCancelled {
                try await connection.send(requests[index % 2])
                tally.sent(requests[index % 2].count)
                index += 1
            }
        }
    }

    /// Retained 100 KB messages to topics it never repeats, as fast as the socket takes them.
    private func publishRetained(port: Int, _ device: (String, NIOSSLContext), tally: AttackTally) async {
        let payload = [UInt8](repeating: 0x52, count: 100_000)
        let counter = Atomic(0)
        await asDevice(port: port, device, tally: tally) { connection in
            while !connection.isClosed && !Task.isCancelled {
                let index = counter.add(1, ordering: .relaxed).newValue
                let bytes = MQTTPacket.publish(
                    PublishPacket(topic: "$aws/things/\(device.0)/r/\(index)", payload: payload, retain: true)
                ).encoded
                try await connection.send(bytes)
                tally.sent(bytes.count)
            }
        }
    }
}
