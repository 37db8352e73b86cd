import Foundation
import MQTT
import TestSupport
import Testing

/// Each malformed or forbidden input closes the offending connection (with CONNACK where the spec gives one),
/// and a bystander session keeps working afterwards.
@Suite(.serialized) struct BadInputTests {
    static func connect(_ clientID: String, level: UInt8 = 4, name: String = "MQTT", flags: UInt8 = 0x02) -> [UInt8] {
        let id = Array(clientID.utf8)
        let body = [0, UInt8(name.utf8.count)] + Array(name.utf8) + [level, flags, 0, 30] + [0, UInt8(id.count)] + id
        return [0x10, UInt8(body.count)] + body
    }

    static let cases: [(name: String, bytes: @Sendable (String) -> [UInt8], connack: ConnectReturnCode?)] = [
        ("malformed remaining length", { connect($0) + [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F] }, .accepted),
        ("wrong protocol name", { connect($0, name: "MQTX") }, nil),
        ("wrong protocol level", { connect($0, level: 5) }, .unacceptableProtocolVersion),
        ("reserved connect flag", { connect($0, flags: 0x03) }, nil),
        ("reserved fixed-header bits", { connect($0) + [0xC1, 0x00] }, .accepted),
        ("invalid UTF-8 topic", { connect($0) + [0x30, 0x05, 0x00, 0x03, 0x61, 0xC3, 0x28] }, .accepted),
        ("oversized packet", { connect($0) + [0x30, 0x80, 0x80, 0x08] }, .accepted),
        ("second CONNECT", { connect($0) + connect($0) }, .accepted),
        ("PUBLISH before CONNECT", { _ in [0x30, 0x05, 0x00, 0x01, 0x61, 0x01, 0x02] }, nil),
        (
            "publish outside the namespace",
            { connect($0) + MQTTPacket.publish(PublishPacket(topic: "$aws/things/other/jobs/x", payload: [])).encoded },
            .accepted
        ),
    ]

    @Test func everyBadInputClosesOnlyItsOwnConnection() async throws {
        let broker = try await TestBroker(maximumPacketSize: 64 * 1024)
        defer { Task { await broker.stop() } }
        let bystander = try await broker.connected("bystander")
        let inbox = Inbox(bystander)
        _ = try await bystander.subscribe([Subscription(filter: "$aws/things/bystander/echo", qos: .atLeastOnce)])
        for (index, testCase) in Self.cases.enumerated() {
            let thing = "bad-\(index)"
            let raw = try await RawConnection(
                port: broker.port, tls: try broker.pki.clientTLS(try broker.pki.device(thing)))
            try await raw.send(testCase.bytes(thing))
            #expect(await eventually { raw.isClosed }, "\(testCase.name): connection still open")
            let connacks = raw.packets.compactMap { packet -> ConnectReturnCode? in
                if case .connack(_, let code) = packet { return code }
                return nil
            }
            #expect(connacks == (testCase.connack.map { [$0] } ?? []), "\(testCase.name): CONNACKs \(connacks)")
            // The bystander is untouched.
            try await bystander.publish(topic: "$aws/things/bystander/echo", payload: [UInt8(index)], qos: .atLeastOnce)
            #expect(await inbox.next()?.payload == [UInt8(index)], "\(testCase.name): bystander affected")
        }
        #expect(bystander.isConnected)
    }

    @Test func silentClientsAreClosedAfterOneAndAHalfKeepAlives() async throws {
        let broker = try await TestBroker()
        defer { Task { await broker.stop() } }
        let raw = try await RawConnection(
            port: broker.port, tls: try broker.pki.clientTLS(try broker.pki.device("quiet")))
        let id = Array("quiet".utf8)
        let body: [UInt8] = [0, 4] + Array("MQTT".utf8) + [4, 0x02, 0, 1] + [0, UInt8(id.count)] + id  // keep-alive 1 s
        // Timed from before the CONNECT leaves: a lower bound however late this task runs again.
        let start = ContinuousClock.now
        try await raw.send([0x10, UInt8(body.count)] + body)
        #expect(await eventually(within: 5) { raw.isClosed })
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(1400), "closed after \(elapsed), before 1.5 keep-alive periods")
    }

    @Test func aClientThatKeepsTalkingStaysConnectedPastManyKeepAlives() async throws {
        let broker = try await TestBroker()
        defer { Task { await broker.stop() } }
        let raw = try await RawConnection(
            port: broker.port, tls: try broker.pki.clientTLS(try broker.pki.device("chatty")))
        let id = Array("chatty".utf8)
        let body: [UInt8] = [0, 4] + Array("MQTT".utf8) + [4, 0x02, 0, 3] + [0, UInt8(id.count)] + id  // keep-alive 3 s
        try await raw.send([0x10, UInt8(body.count)] + body)
        // Nine seconds of PINGREQs every 0.5 s: twice 1.5 keep-alive periods from the CONNECT, never closed. The
        // pings come from the connection's event loop: a test task starved by a busy suite missed its pings.
        let pings = raw.sendRepeatedly([0xC0, 0x00], every: .milliseconds(500))
        try await Task.sleep(for: .seconds(9))
        #expect(!raw.isClosed)
        pings.cancel()
        #expect(await eventually(within: 15) { raw.isClosed }, "silent again: closed")
    }
}
