import Foundation
import MQTT
import NIOSSL
import Synchronization

/// A device played by the test: raw publishes and the messages it receives, nothing else.
public final class ScriptedDevice: Sendable {
    public let thing: String
    public let certificatePEM: String
    public let keyPEM: String
    public let client: MQTTClient
    private let log = MessageLog()
    private let pump: Task<Void, Never>

    public init(thing: String, port: Int, certificatePEM: String, keyPEM: String, caPath: String) async throws {
        self.thing = thing
        self.certificatePEM = certificatePEM
        self.keyPEM = keyPEM
        let tls = MQTTClientConfiguration.mutualTLS(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)),
            privateKey: try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem),
            trustedServerCAs: try NIOSSLCertificate.fromPEMFile(caPath))
        client = MQTTClient(
            configuration: MQTTClientConfiguration(
                host: "127.0.0.1", port: port, tls: tls, serverName: "localhost",
                connect: ConnectPacket(clientID: thing, cleanSession: true, keepAlive: 60)))
        let client = client
        let log = log
        pump = Task {
            for await message in client.messages { log.messages.withLock { $0.append(message) } }
        }
        _ = try await client.connect()
    }

    public func publish(_ topic: String, _ payload: [UInt8], qos: QoS = .atLeastOnce) async throws {
        try await client.publish(topic: topic, payload: payload, qos: qos)
    }

    public func publish(_ topic: String, json: String, qos: QoS = .atLeastOnce) async throws {
        try await publish(topic, Array(json.utf8), qos: qos)
    }

    public func subscribe(_ filter: String, qos: QoS) async throws {
        _ = try await client.subscribe([Subscription(filter: filter, qos: qos)])
    }

    /// Waits until `count` messages on `topic` have arrived (and takes them), or fails after `timeout`. The default
    /// is generous because it only bounds a failure: a clean clone's test run starts ~90 suites at once on 2 cores,
    /// and a service starting then has answered a first `$next/get` only after more than 10 s (CI, stop 23).
    public func take(_ topic: String, count: Int = 1, timeout: Duration = .seconds(45)) async throws -> [PublishPacket]
    {
        var deadline = ContinuousClock.now + timeout
        var closed = false
        while ContinuousClock.now < deadline {
            let taken = log.messages.withLock { messages -> [PublishPacket]? in
                let matching = messages.filter { $0.topic == topic }
                guard matching.count >= count else { return nil }
                let chosen = Array(matching.prefix(count))
                var skipped = 0
                messages.removeAll { message in
                    guard message.topic == topic, skipped < count else { return false }
                    skipped += 1
                    return true
                }
                return chosen
            }
            if let taken { return taken }
            if !closed, !client.isConnected {
                // Nothing more can come once the connection is gone, beyond what is still on its way to the log.
                closed = true
                deadline = min(deadline, ContinuousClock.now + .seconds(1))
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("no \(count) message(s) on \(topic) within \(timeout)\(closed ? " (connection closed)" : "")")
    }

    public func takeText(_ topic: String) async throws -> String {
        String(decoding: try await take(topic)[0].payload, as: UTF8.self)
    }

    /// Messages on `topic` that arrived and were not taken.
    public func pending(_ topic: String) -> Int { log.messages.withLock { $0.filter { $0.topic == topic }.count } }

    public func close() async {
        await client.disconnect()
        client.finish()
        pump.cancel()
    }
}

/// What a scripted device received and the test has not yet taken.
final class MessageLog: Sendable {
    let messages = Mutex<[PublishPacket]>([])
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
