import CodeSigning
import Crypto
import Foundation
import MQTT
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// A CA, a server certificate for 127.0.0.1 and one client certificate that every generated client presents.
enum BenchPKI {
    static func create(in dir: String) throws -> NIOSSLContext {
        let ca = try CertificateAuthority.create(
            commonName: "bench CA", key: P256.Signing.PrivateKey(), validity: Validity(days: 1))
        let serverKey = P256.Signing.PrivateKey()
        let server = try ca.issue(
            .server(hosts: ["127.0.0.1", "localhost"]), publicKey: serverKey.publicKey, validity: Validity(days: 1))
        let clientKey = P256.Signing.PrivateKey()
        let client = try ca.issue(
            .device(thingName: "bench"), publicKey: clientKey.publicKey, validity: Validity(days: 1))
        try CertificateCoding.encode(ca.certificate).write(toFile: dir + "/ca.pem", atomically: true, encoding: .utf8)
        try CertificateCoding.encode(server).write(toFile: dir + "/server.pem", atomically: true, encoding: .utf8)
        try KeyFiles.writePrivateKey(serverKey, to: dir + "/server.key")
        let tls = MQTTClientConfiguration.mutualTLS(
            certificateChain: [
                try NIOSSLCertificate(bytes: Array(try CertificateCoding.encode(client).utf8), format: .pem)
            ],
            privateKey: try NIOSSLPrivateKey(bytes: Array(clientKey.pemRepresentation.utf8), format: .pem),
            trustedServerCAs: [
                try NIOSSLCertificate(bytes: Array(try CertificateCoding.encode(ca.certificate).utf8), format: .pem)
            ])
        return try NIOSSLContext(configuration: tls)
    }
}

/// The same load for every server: idle connections, then publishers against one subscriber.
struct BenchLoadGenerator {
    let port: Int
    let context: NIOSSLContext

    func client(_ id: String, keepAlive: UInt16 = 600) -> MQTTClient {
        var configuration = MQTTClientConfiguration(
            host: "127.0.0.1", port: port, tls: nil, connect: ConnectPacket(clientID: id, keepAlive: keepAlive))
        configuration.sslContext = context
        return MQTTClient(configuration: configuration)
    }

    /// Opens `count` connections, at most 64 handshakes at a time; returns those that connected and subscribed. Each
    /// subscribes to a wildcard filter of its own, `idle/INDEX/#`, as a device subscribes to its own commands, so the
    /// server holds as many subscriptions as clients and every later publish is matched against them.
    func openIdle(count: Int, progress: @Sendable (Int) -> Void) async throws -> [MQTTClient] {
        var open: [MQTTClient] = []
        try await boundedConcurrently(count) { index -> MQTTClient? in
            let client = client("idle-\(index)")
            guard (try? await client.connect()) != nil,
                (try? await client.subscribe([Subscription(filter: "idle/\(index)/#", qos: .atLeastOnce)])) != nil
            else { return nil }
            return client
        } collect: { finished in
            if let finished { open.append(finished) }
            progress(open.count)
        }
        return open
    }

    func close(_ clients: [MQTTClient]) async {
        await withTaskGroup(of: Void.self) { group in
            for client in clients { group.addTask { await client.disconnect() } }
        }
    }

    /// One publishing run: messages delivered per second, from the first publish to the last delivery, and how long
    /// each delivered message took from its publish call to its arrival at the subscriber.
    struct ThroughputRun {
        let rate: Double
        let delivered: Int
        /// What `usage` reported just before the first publish and once the deliveries stopped (within 20 ms of the
        /// last when all arrived), subtracted: the server's cost of the messages, without the clients' handshakes
        /// and disconnects.
        let serverUsage: ServerUsage
        let latencyMillisecondsP50: Double
        let latencyMillisecondsP99: Double
    }

    /// Publishers send `messages` each as fast as the protocol lets them to one subscriber of bench/#. Every payload
    /// starts with its send time (monotonic nanoseconds, big-endian), so the subscriber measures each latency; the
    /// rest of the `payload` bytes is filler. `usage` reads the server's figures.
    func throughput(
        publishers: Int, messages: Int, payload: Int, qos: QoS, usage: () throws -> ServerUsage
    ) async throws -> ThroughputRun {
        let subscriber = client("bench-subscriber")
        try await subscriber.connect()
        _ = try await subscriber.subscribe([Subscription(filter: "bench/#", qos: qos)])
        let expected = publishers * messages
        let counter = NIOLockedValueBox((count: 0, last: ContinuousClock.now, latencies: [Double]()))
        counter.withLockedValue { $0.latencies.reserveCapacity(expected) }
        let consumer = Task {
            for await message in subscriber.messages {
                let arrived = DispatchTime.now().uptimeNanoseconds
                let sent = Self.sendTime(in: message.payload)
                let done = counter.withLockedValue { value -> Bool in
                    value.count += 1
                    value.last = ContinuousClock.now
                    if let sent { value.latencies.append(Double(arrived &- sent) / 1_000_000) }
                    return value.count >= expected
                }
                if done { break }
            }
        }
        var senders: [MQTTClient] = []
        for index in 0..<publishers {
            let sender = client("bench-publisher-\(index)")
            try await sender.connect()
            senders.append(sender)
        }
        let filler = [UInt8](repeating: 0x5A, count: max(payload - Self.stampSize, 0))
        let usageAtStart = try usage()
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, sender) in senders.enumerated() {
                group.addTask {
                    for _ in 0..<messages {
                        let body = Self.stamp(DispatchTime.now().uptimeNanoseconds) + filler
                        try await sender.publish(topic: "bench/\(index)", payload: body, qos: qos)
                    }
                }
            }
            try await group.waitForAll()
        }
        // Wait for the deliveries to stop: all arrived, or nothing new for 2 s.
        while true {
            let (count, last) = counter.withLockedValue { ($0.count, $0.last) }
            if count >= expected
                || ContinuousClock.now - last > .seconds(2) && ContinuousClock.now - start > .seconds(2)
            {
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let usageAtEnd = try usage()
        consumer.cancel()
        let (delivered, last, latencies) = counter.withLockedValue { ($0.count, $0.last, $0.latencies.sorted()) }
        for sender in senders { await sender.disconnect() }
        await subscriber.disconnect()
        subscriber.finish()
        let seconds = max(Timing.milliseconds(last - start) / 1000, 0.001)
        return ThroughputRun(
            rate: Double(delivered) / seconds, delivered: delivered, serverUsage: usageAtEnd - usageAtStart,
            latencyMillisecondsP50: Timing.quantile(latencies, 0.5),
            latencyMillisecondsP99: Timing.quantile(latencies, 0.99))
    }

    /// A server process's CPU time and read/write system calls so far (or between two readings).
    struct ServerUsage {
        let cpuNanoseconds: UInt64
        let systemCalls: Int

        static func - (end: ServerUsage, start: ServerUsage) -> ServerUsage {
            ServerUsage(
                cpuNanoseconds: end.cpuNanoseconds &- start.cpuNanoseconds,
                systemCalls: end.systemCalls - start.systemCalls)
        }
    }

    /// Bytes of the send time at the start of every payload.
    static let stampSize = 8

    static func stamp(_ nanoseconds: UInt64) -> [UInt8] {
        (0..<stampSize).map { UInt8(truncatingIfNeeded: nanoseconds >> (8 * (stampSize - 1 - $0))) }
    }

    /// The send time a payload starts with; nil when it is too short to hold one.
    static func sendTime(in payload: [UInt8]) -> UInt64? {
        guard payload.count >= stampSize else { return nil }
        return payload.prefix(stampSize).reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// Runs `work(0) … work(count - 1)` with at most `width` running at once (thousands of simultaneous TLS handshakes
/// would only time out), handing each result to `collect` as it finishes.
func boundedConcurrently<T: Sendable>(
    _ count: Int, width: Int = 64, _ work: @escaping @Sendable (Int) async throws -> T, collect: (T) -> Void
) async throws {
    try await withThrowingTaskGroup(of: T.self) { group in
        var next = 0
        func start() {
            let index = next
            next += 1
            group.addTask { try await work(index) }
        }
        for _ in 0..<min(width, count) { start() }
        while let finished = try await group.next() {
            collect(finished)
            if next < count { start() }
        }
    }
}
