import Foundation
import MQTT
import NIOSSL
import TestSupport
import Testing

@Suite(.serialized) struct ServerTests {
    @Test func devicesPublishAndSubscribeInTheirNamespaceAtQoS0And1() async throws {
        let broker = try await TestBroker()
        defer { Task { await broker.stop() } }
        let device = try await broker.connected("t1")
        let inbox = Inbox(device)
        let codes = try await device.subscribe([Subscription(filter: "$aws/things/t1/#", qos: .atLeastOnce)])
        #expect(codes == [.granted(.atLeastOnce)])
        try await device.publish(topic: "$aws/things/t1/echo", payload: [1, 2, 3], qos: .atMostOnce)
        try await device.publish(topic: "$aws/things/t1/echo", payload: [4], qos: .atLeastOnce)
        try await device.publish(topic: "$aws/things/t1/echo", payload: [5], qos: .exactlyOnce)
        let first = await inbox.next()
        let second = await inbox.next()
        let third = await inbox.next()
        #expect(first?.payload == [1, 2, 3] && first?.qos == .atMostOnce)
        #expect(second?.payload == [4] && second?.qos == .atLeastOnce)
        #expect(third?.payload == [5] && third?.qos == .atLeastOnce, "delivered at the subscription's QoS")
        await device.disconnect()
    }

    @Test func devicesCannotReachOutsideTheirNamespace() async throws {
        let broker = try await TestBroker()
        defer { Task { await broker.stop() } }
        let device = try await broker.connected("t1")
        let codes = try await device.subscribe([
            Subscription(filter: "#", qos: .atMostOnce),
            Subscription(filter: "$aws/things/+/jobs/notify", qos: .atMostOnce),
            Subscription(filter: "$aws/things/t2/jobs/notify-next", qos: .atMostOnce),
            Subscription(filter: "$aws/things/t1/jobs/notify-next", qos: .atLeastOnce),
        ])
        #expect(codes == [.failure, .failure, .failure, .granted(.atLeastOnce)])
        // A forbidden publish closes the connection; others are unaffected.
        let bystander = try await broker.connected("t3")
        try await device.publish(topic: "$aws/things/t2/jobs/$next/get", payload: [], qos: .atMostOnce)
        #expect(await eventually { !device.isConnected })
        #expect(bystander.isConnected)
        let codesAfter = try await bystander.subscribe([Subscription(filter: "$aws/things/t3/x", qos: .atMostOnce)])
        #expect(codesAfter == [.granted(.atMostOnce)])
        await bystander.disconnect()
    }

    /// Each level of a wildcard filter is a node of the broker's subscription tree: a filter deeper than the limit is
    /// refused in the SUBACK, and the others in the same SUBSCRIBE are granted and work.
    @Test func aFilterDeeperThanTheLimitIsRefusedAndTheRestGranted() async throws {
        let broker = try await TestBroker()
        defer { Task { await broker.stop() } }
        let device = try await broker.connected("deep")
        let inbox = Inbox(device)
        let prefix = "$aws/things/deep/"
        let deepest = prefix + Array(repeating: "+", count: Topic.maximumFilterLevels - 3).joined(separator: "/")
        #expect(Topic.levelCount(deepest) == Topic.maximumFilterLevels)
        let codes = try await device.subscribe([
            Subscription(filter: deepest + "/+", qos: .atMostOnce),
            Subscription(filter: deepest, qos: .atMostOnce),
        ])
        #expect(codes == [.failure, .granted(.atMostOnce)])
        let topic = prefix + Array(repeating: "x", count: Topic.maximumFilterLevels - 3).joined(separator: "/")
        try await device.publish(topic: topic, payload: [9], qos: .atMostOnce)
        #expect(await inbox.next()?.payload == [9])
        #expect(broker.server.subscriptionFilters(of: "deep") == [deepest])
    }

    @Test func clientIDMustBeTheCertificatesThingName() async throws {
        let broker = try await TestBroker()
        defer { Task { await broker.stop() } }
        let impostor = try broker.client("t1", clientID: "t2")
        await #expect(throws: MQTTClientError.connectionRefused(.notAuthorized)) { try await impostor.connect() }
    }

    @Test func unknownCAExpiredAndRevokedCertificatesAreRefused() async throws {
        let pki = try TestPKI()
        let revokedFiles = try pki.device("revoked-thing")
        let broker = try await TestBroker(pki: pki, revoked: [revokedFiles.serial])
        defer { Task { await broker.stop() } }
        func client(_ files: (certificate: String, key: String, serial: [UInt8]), _ id: String) throws -> MQTTClient {
            MQTTClient(
                configuration: MQTTClientConfiguration(
                    host: "127.0.0.1", port: broker.port, tls: try pki.clientTLS(files),
                    connect: ConnectPacket(clientID: id)))
        }
        let rogue = try pki.device("rogue", issuer: pki.rogue)
        await #expect(throws: (any Error).self) { try await client(rogue, "rogue").connect() }
        let expired = try pki.device(
            "old",
            validity: .init(
                notBefore: Date(timeIntervalSinceNow: -86_400 * 9), notAfter: Date(timeIntervalSinceNow: -86_400)))
        await #expect(throws: (any Error).self) { try await client(expired, "old").connect() }
        await #expect(throws: MQTTClientError.connectionRefused(.notAuthorized)) {
            try await client(revokedFiles, "revoked-thing").connect()
        }
        // A good device still gets in.
        let good = try await broker.connected("good")
        #expect(good.isConnected)
        await good.disconnect()
    }

    @Test func requestHandlerAnswersWithoutASubscription() async throws {
        struct JobsResponder: MQTTRequestHandler {
            func handle(_ publish: PublishPacket, from session: MQTTSessionContext) -> Bool {
                guard publish.topic.hasSuffix("/jobs/$next/get") else { return false }
                session.deliver(topic: publish.topic + "/accepted", payload: Array("{\"execution\":null}".utf8))
                return true
            }
        }
        let broker = try await TestBroker(handler: JobsResponder())
        defer { Task { await broker.stop() } }
        let device = try await broker.connected("t1")
        let inbox = Inbox(device)
        try await device.publish(
            topic: "$aws/things/t1/jobs/$next/get", payload: Array("{\"clientToken\":\"1\"}".utf8), qos: .atLeastOnce)
        let answer = await inbox.next()
        #expect(answer?.topic == "$aws/things/t1/jobs/$next/get/accepted")
        #expect(answer.map { String(decoding: $0.payload, as: UTF8.self) } == "{\"execution\":null}")
        await device.disconnect()
    }

    @Test func retainedMessagesReachLaterSubscribers() async throws {
        let broker = try await TestBroker(authorizer: AllowAllAuthorizer())
        defer { Task { await broker.stop() } }
        let publisher = try await broker.connected("p")
        try await publisher.publish(
            PublishPacket(topic: "status/fleet", payload: Array("v1".utf8), qos: .atLeastOnce, retain: true))
        let late = try await broker.connected("late")
        let inbox = Inbox(late)
        _ = try await late.subscribe([Subscription(filter: "status/+", qos: .atLeastOnce)])
        let message = await inbox.next()
        #expect(message?.retain == true && message?.payload == Array("v1".utf8))
        // An empty retained message clears it.
        try await publisher.publish(PublishPacket(topic: "status/fleet", payload: [], qos: .atLeastOnce, retain: true))
        let later = try await broker.connected("later")
        let laterInbox = Inbox(later)
        _ = try await later.subscribe([Subscription(filter: "status/#", qos: .atMostOnce)])
        #expect(await laterInbox.next(within: 0.5) == nil)
    }

    @Test func willIsPublishedWhenAConnectionDiesButNotOnDisconnect() async throws {
        let broker = try await TestBroker(authorizer: AllowAllAuthorizer())
        defer { Task { await broker.stop() } }
        let watcher = try await broker.connected("watcher")
        let inbox = Inbox(watcher)
        _ = try await watcher.subscribe([Subscription(filter: "wills/#", qos: .atLeastOnce)])
        let polite = try await broker.connected("polite", will: Will(topic: "wills/polite", payload: [1]))
        await polite.disconnect()
        let crashing = try await broker.connected(
            "crashing", will: Will(topic: "wills/crashing", payload: [2], qos: .atLeastOnce))
        await crashing.dropConnection()
        let message = await inbox.next()
        #expect(message?.topic == "wills/crashing")
        #expect(await inbox.next(within: 0.5) == nil, "a clean DISCONNECT discards the will")
    }

    @Test func persistentSessionsGetQoS1MessagesSentWhileOffline() async throws {
        let broker = try await TestBroker(authorizer: AllowAllAuthorizer())
        defer { Task { await broker.stop() } }
        let sleeper = try broker.client("sleeper", cleanSession: false)
        #expect(try await sleeper.connect() == false)
        _ = try await sleeper.subscribe([Subscription(filter: "mail/sleeper", qos: .atLeastOnce)])
        await sleeper.disconnect()
        let sender = try await broker.connected("sender")
        for index in 0..<3 {
            try await sender.publish(topic: "mail/sleeper", payload: [UInt8(index)], qos: .atLeastOnce)
        }
        try await sender.publish(topic: "mail/sleeper", payload: [99], qos: .atMostOnce)  // QoS 0 is not queued
        let woken = try broker.client("sleeper", cleanSession: false)
        let inbox = Inbox(woken)
        #expect(try await woken.connect() == true, "session present")
        var payloads: [[UInt8]] = []
        for _ in 0..<3 { if let message = await inbox.next() { payloads.append(message.payload) } }
        #expect(payloads == [[0], [1], [2]])
        #expect(await inbox.next(within: 0.3) == nil)
    }

    @Test func aSecondConnectionWithTheSameClientIDTakesOver() async throws {
        let broker = try await TestBroker()
        defer { Task { await broker.stop() } }
        let first = try await broker.connected("t1")
        let second = try await broker.connected("t1")
        #expect(await eventually { !first.isConnected })
        #expect(second.isConnected)
        await second.disconnect()
    }

    @Test func reconnectsWithBackoffRestoresSubscriptionsAndRedeliversQoS1() async throws {
        let broker = try await TestBroker(authorizer: AllowAllAuthorizer())
        defer { Task { await broker.stop() } }
        let client = try broker.client(
            "r", reconnect: ReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(200)))
        let inbox = Inbox(client)
        try await client.connect()
        _ = try await client.subscribe([Subscription(filter: "r/#", qos: .atLeastOnce)])
        await client.dropConnection()
        // Published while the connection is down: held, sent after the reconnect, acknowledged then.
        try await client.publish(topic: "r/while-down", payload: [6], qos: .atLeastOnce)
        #expect(await eventually { client.isConnected }, "the client reconnected by itself")
        // Its subscription was restored (clean session: the client re-subscribes), so it hears its own messages.
        try await client.publish(topic: "r/x", payload: [7], qos: .atLeastOnce)
        var heard: [UInt8]?
        while heard == nil, let message = await inbox.next() {
            if message.topic == "r/x" { heard = message.payload }
        }
        #expect(heard == [7])
        await client.disconnect()
    }
}

@Suite struct ReconnectPolicyTests {
    @Test func delaysGrowAndAreCappedWithJitterWithinBounds() {
        let policy = ReconnectPolicy(
            initialDelay: .milliseconds(100), maximumDelay: .seconds(2), multiplier: 2, jitter: 0.5)
        var random = SystemRandomNumberGenerator()
        for attempt in 0..<10 {
            let base = min(0.1 * Double(1 << attempt), 2.0)
            for _ in 0..<50 {
                let delay = policy.delay(attempt: attempt, using: &random)
                let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
                #expect(seconds >= base * 0.5 - 0.001 && seconds <= base * 1.5 + 0.001)
            }
        }
    }
}
