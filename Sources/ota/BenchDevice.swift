import Foundation
import MQTT
import NIOConcurrencyHelpers
import NIOSSL
import OTAService
import OTAWire

/// A connected device of `ota bench jobs`: counts its notify-next and the data blocks it receives.
final class BenchDevice: Sendable {
    let thing: String
    let client: MQTTClient
    let sslContext: NIOSSLContext
    private let state = NIOLockedValueBox(State())
    private let consumer = NIOLockedValueBox<Task<Void, Never>?>(nil)

    private struct State {
        var notified = false
        var blocks = 0
        var target = Int.max
        var waiter: CheckedContinuation<Void, Never>?
        var timedOut = false
        var request = 0
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
                for await message in client.messages {
                    let waiter = Self.record(message, in: state)
                    waiter?.resume()
                }
            }
        }
    }

    private static func record(_ message: PublishPacket, in state: NIOLockedValueBox<State>)
        -> CheckedContinuation<Void, Never>?
    {
        state.withLockedValue { state in
            if message.topic.hasSuffix("/notify-next") {
                state.notified = true
                return nil
            }
            guard message.topic.hasSuffix("/data/cbor") else { return nil }
            state.blocks += 1
            guard state.blocks >= state.target, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return waiter
        }
    }

    /// Downloads the whole file in requests of up to 32 blocks of 4 KiB, one request in flight at a time.
    func download(streamID: String, size: Int) async throws {
        let prefix = "$aws/things/\(thing)/streams/\(streamID)/"
        _ = try await client.subscribe([Subscription(filter: prefix + "data/cbor", qos: .atMostOnce)])
        let blockCount = (size + 4095) / 4096
        var offset = 0
        while offset < blockCount {
            let count = min(32, blockCount - offset)
            let request = StreamRequest(
                clientToken: "rdy", fileID: 0, blockSize: 4096, blockOffset: UInt64(offset),
                numberOfBlocks: UInt64(count))
            await withCheckedContinuation { continuation in
                let number = state.withLockedValue { state -> Int in
                    state.target = state.blocks + count
                    state.waiter = continuation
                    state.request += 1
                    return state.request
                }
                let client = client
                Task { try? await client.publish(topic: prefix + "get/cbor", payload: request.cborEncoded) }
                // A lost block must not hang the bench: after 30 s the wait ends and the download fails.
                let state = state
                Task {
                    try? await Task.sleep(for: .seconds(30))
                    let stuck = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
                        guard state.request == number, let waiter = state.waiter else { return nil }
                        state.waiter = nil
                        state.timedOut = true
                        return waiter
                    }
                    stuck?.resume()
                }
            }
            if state.withLockedValue({ $0.timedOut }) {
                throw CLIError("\(thing): blocks \(offset)..<\(offset + count) did not all arrive within 30 s")
            }
            offset += count
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
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func start() {
                let device = devices[next]
                next += 1
                group.addTask {
                    _ = try await device.client.connect()
                    _ = try await device.client.subscribe([
                        Subscription(filter: "$aws/things/\(device.thing)/jobs/notify-next", qos: .atLeastOnce)
                    ])
                }
            }
            for _ in 0..<min(64, devices.count) { start() }
            while try await group.next() != nil {
                if next < devices.count { start() }
            }
        }
        return devices
    }

    static func waitUntil(timeout: Duration, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CLIError("timed out waiting for the devices") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
