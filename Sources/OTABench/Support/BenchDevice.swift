import Foundation
import MQTT
import NIOConcurrencyHelpers
import NIOSSL
import OTAService

/// A connected device of `ota bench jobs`: notes when its notify-next arrives.
final class BenchDevice: Sendable {
    let thing: String
    let client: MQTTClient
    let sslContext: NIOSSLContext
    private let state = NIOLockedValueBox(State())
    private let consumer = NIOLockedValueBox<Task<Void, Never>?>(nil)

    private struct State {
        var notified = false
    }

    var notified: Bool { state.withLockedValue { $0.notified } }

    init(thing: String, port: Int, sslContext: NIOSSLContext) {
        self.thing = thing
        self.sslContext = sslContext
        var configuration = MQTTClientConfiguration(
            host: "127.0.0.1", port: port, tls: nil, connect: ConnectPacket(clientID: thing, keepAlive: 600))
        configuration.sslContext = sslContext
        client = MQTTClient(configuration: configuration)
        let client = client
        let state = state
        consumer.withLockedValue {
            $0 = Task {
                for await message in client.messages where message.topic.hasSuffix("/notify-next") {
                    state.withLockedValue { $0.notified = true }
                }
            }
        }
    }

    /// Connects devices with their own certificates from the service CA, 64 handshakes at a time.
    static func connect(_ things: [String], server: OTAServer, port: Int) async throws -> [BenchDevice] {
        let ca = try NIOSSLCertificate.fromPEMFile(server.pki.caCertificatePath)
        var devices: [BenchDevice] = []
        for (index, thing) in things.enumerated() {
            let issued = try await server.provisionDevice(thing)
            let tls = MQTTClientConfiguration.mutualTLS(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(issued.certificatePEM.utf8)),
                privateKey: try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem),
                trustedServerCAs: ca)
            devices.append(BenchDevice(thing: thing, port: port, sslContext: try NIOSSLContext(configuration: tls)))
            if (index + 1) % 250 == 0 { progress("  \(index + 1) certificates issued") }
        }
        let connecting = devices
        try await boundedConcurrently(devices.count) { index in
            let device = connecting[index]
            _ = try await device.client.connect()
            _ = try await device.client.subscribe([
                Subscription(filter: "$aws/things/\(device.thing)/jobs/notify-next", qos: .atLeastOnce)
            ])
        } collect: { _ in
        }
        return devices
    }

    static func waitUntil(
        timeout: Duration, polling interval: Duration = .milliseconds(5), _ condition: () -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { throw BenchError.devicesTimedOut }
            try await Task.sleep(for: interval)
        }
    }
}
