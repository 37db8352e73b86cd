import Foundation
import MQTT
import TestSupport
import Testing

// One client must not be able to take the server down: a client that never acknowledges QoS 1 messages is capped
// (in flight, then queued) and finally disconnected — the server and every other client carry on; retained
// messages are bounded per client.
@Suite(.serialized) struct HostileClientTests {
    @Test(.timeLimit(.minutes(2)))
    func aClientThatNeverAcknowledgesIsCappedThenDisconnectedAndTheServerCarriesOn() async throws {
        let broker = try await TestBroker(maximumQueuedMessages: 500)
        defer { Task { await broker.stop() } }
        let topic = "$aws/things/hog/notify"
        let hog = try await RawConnection(
            port: broker.port, tls: try broker.pki.clientTLS(try broker.pki.device("hog")))
        try await hog.send(
            BadInputTests.connect("hog")
                + MQTTPacket.subscribe(packetID: 1, subscriptions: [Subscription(filter: topic, qos: .atLeastOnce)])
                .encoded)
        #expect(await eventually { hog.packets.contains { if case .suback = $0 { true } else { false } } })

        // More than the 65,535 packet ids a session has: the server used to look for a free one forever.
        for index in 0..<70_000 {
            broker.server.publish(PublishPacket(topic: topic, payload: Array("\(index)".utf8), qos: .atLeastOnce))
        }
        #expect(await eventually { hog.isClosed }, "a client a whole queue behind is disconnected")
        let received = hog.packets.filter { if case .publish = $0 { true } else { false } }.count
        // At most the in-flight limit was sent (fewer when the close overtook writes not yet flushed).
        #expect(
            received <= MQTTServerConfiguration.defaultMaximumInflightMessages,
            "sent without acknowledgements: \(received)")
        #expect(broker.server.queueOverflowCount == 1)

        // The server answers everyone else as before.
        let bystander = try await broker.connected("bystander")
        let inbox = Inbox(bystander)
        _ = try await bystander.subscribe([Subscription(filter: "$aws/things/bystander/echo", qos: .atLeastOnce)])
        try await bystander.publish(topic: "$aws/things/bystander/echo", payload: [7], qos: .atLeastOnce)
        #expect(await inbox.next()?.payload == [7])
    }

    /// A client that sends faster than its inbound rate is slowed to it — what it sent in one burst is handled at
    /// the rate, none of it lost — and stays connected. The bound is computed from time measured here, so a slow
    /// machine only makes it looser.
    @Test func aClientSendingFasterThanItsRateIsPacedNotDisconnected() async throws {
        let broker = try await TestBroker(
            authorizer: AllowAllAuthorizer(),
            inboundRate: InboundRateLimits(packetsPerSecond: 20, packetBurst: 20, bytesPerSecond: 1e9, byteBurst: 1e9))
        defer { Task { await broker.stop() } }
        let topic = "$aws/things/flood/x"
        let watcher = try await broker.connected("watcher")
        let inbox = Inbox(watcher)
        _ = try await watcher.subscribe([Subscription(filter: topic, qos: .atMostOnce)])

        let flood = try await RawConnection(
            port: broker.port, tls: try broker.pki.clientTLS(try broker.pki.device("flood")))
        let start = ContinuousClock.now
        // CONNECT and 100 publishes in one write: the server reads them all in a read or two.
        try await flood.send(
            BadInputTests.connect("flood")
                + (0..<100).flatMap { MQTTPacket.publish(PublishPacket(topic: topic, payload: [UInt8($0)])).encoded })
        #expect(await eventually { inbox.count > 20 })
        // Unpaced, the whole burst would be through well within this.
        try await Task.sleep(for: .milliseconds(500))
        let routed = inbox.count
        let seconds = Double((ContinuousClock.now - start).components.seconds) + 1
        #expect(Double(routed) <= 20 + 20 * seconds + 1, "\(routed) routed within \(seconds) s at 20 a second")
        #expect(broker.server.pacedCount >= 1)

        #expect(await eventually(within: 60) { inbox.count == 100 }, "every paced message is handled in the end")
        #expect(!flood.isClosed, "a paced client is slowed, not disconnected")
        await flood.close()
    }

    @Test func acknowledgementsLetQueuedMessagesThroughInOrder() async throws {
        let broker = try await TestBroker()
        defer { Task { await broker.stop() } }
        let device = try await broker.connected("steady")
        let inbox = Inbox(device)
        _ = try await device.subscribe([Subscription(filter: "$aws/things/steady/notify", qos: .atLeastOnce)])
        let sent: [UInt8] = (0..<300).map { (index: Int) -> UInt8 in UInt8(truncatingIfNeeded: index) }
        for byte in sent {
            broker.server.publish(PublishPacket(topic: "$aws/things/steady/notify", payload: [byte], qos: .atLeastOnce))
        }
        var payloads: [UInt8] = []
        for _ in 0..<300 {
            guard let message = await inbox.next() else { break }
            payloads += message.payload
        }
        #expect(payloads == sent, "all 300, in order, a window at a time")
        #expect(broker.server.queueOverflowCount == 0)
    }

    @Test func retainedMessagesAreBoundedPerClient() async throws {
        let broker = try await TestBroker(retainedLimits: RetainedLimits(perClient: 10))
        defer { Task { await broker.stop() } }
        let device = try await broker.connected("keeper")
        for index in 0..<15 {
            try await device.publish(
                topic: "$aws/things/keeper/r/\(index)", payload: Array(repeating: 1, count: 1000), qos: .atLeastOnce,
                retain: true)
        }
        #expect(broker.server.retainedRefusedCount == 5)
        // Clearing one (an empty retained message) makes room for another.
        try await device.publish(topic: "$aws/things/keeper/r/0", payload: [], qos: .atLeastOnce, retain: true)
        try await device.publish(topic: "$aws/things/keeper/r/new", payload: [2], qos: .atLeastOnce, retain: true)
        #expect(broker.server.retainedRefusedCount == 5)
        await device.disconnect()
        device.finish()

        let later = try await broker.connected("keeper")
        let inbox = Inbox(later)
        _ = try await later.subscribe([Subscription(filter: "$aws/things/keeper/r/#", qos: .atMostOnce)])
        var topics: Set<String> = []
        while let message = await inbox.next(within: 1) { topics.insert(message.topic) }
        #expect(topics == Set((1..<10).map { "$aws/things/keeper/r/\($0)" } + ["$aws/things/keeper/r/new"]))
    }
}
