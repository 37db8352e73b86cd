import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import MQTT

/// A connection that closed leaves nothing behind. Its session context names the connection as its endpoint, and
/// the connection kept that context: every connection that ever closed stayed in memory with its channel and buffers
/// (about 4 KiB idle, far more after a download; heaptrack found it in `ota serve`).
@Suite struct ClosedConnectionMemoryTests {
    /// Remembers each session's connection weakly, so the test sees whether anything else still holds it.
    final class WeakEndpoints: MQTTRequestHandler {
        private final class Box: @unchecked Sendable {  // read and written under the lock only
            weak var endpoint: AnyObject?
            init(_ endpoint: AnyObject) { self.endpoint = endpoint }
        }
        private let boxes = NIOLockedValueBox<[Box]>([])

        var seen: Int { boxes.withLockedValue { $0.count } }
        var alive: Int { boxes.withLockedValue { $0.filter { $0.endpoint != nil }.count } }

        func handle(_ publish: PublishPacket, from session: MQTTSessionContext) -> Bool { false }

        func sessionConnected(_ session: MQTTSessionContext) {
            boxes.withLockedValue { $0.append(Box(session.endpoint)) }
        }
    }

    @Test(arguments: [false, true])
    func aClosedConnectionIsFreed(clientDisconnects: Bool) async throws {
        let endpoints = WeakEndpoints()
        let broker = try await TestBroker(handler: endpoints)
        defer { Task { await broker.stop() } }
        for _ in 0..<3 {
            let client = try await broker.connected("dev-1")
            if clientDisconnects {
                await client.disconnect()  // DISCONNECT, then close
            } else {
                broker.server.disconnect(clientID: "dev-1", reason: "test")  // the server ends it
            }
        }
        #expect(endpoints.seen == 3)
        #expect(await eventually(within: 10) { endpoints.alive == 0 }, "\(endpoints.alive) of 3 still held")
    }
}
