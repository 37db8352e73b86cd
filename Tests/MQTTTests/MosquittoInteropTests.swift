import Foundation
import MQTT
import NIOSSL
import TestSupport
import Testing

/// Interoperability with Eclipse Mosquitto (Debian's mosquitto and mosquitto-clients), nobody's code but theirs.
@Suite(.serialized) struct MosquittoInteropTests {
    /// mosquitto_sub/mosquitto_pub arguments for a device certificate against a server on `port`.
    static func tlsArguments(_ pki: TestPKI, _ files: (certificate: String, key: String, serial: [UInt8]), port: Int)
        -> [String]
    {
        ["-h", "127.0.0.1", "-p", "\(port)", "--cafile", pki.caPath, "--cert", files.certificate, "--key", files.key]
    }

    @Test func mosquittoClientsTalkToOurServer() async throws {
        let broker = try await TestBroker(authorizer: AllowAllAuthorizer())
        defer { Task { await broker.stop() } }
        let pki = broker.pki
        let subscriber = try BackgroundProcess(
            "mosquitto_sub",
            Self.tlsArguments(pki, try pki.device("sub"), port: broker.port) + [
                "-i", "sub", "-t", "interop/#", "-q", "1", "-C", "2", "-v",
            ])
        #expect(
            await eventually { broker.server.connectedClientCount >= 1 },
            "mosquitto_sub did not connect: \(subscriber.text)")
        try await Task.sleep(for: .milliseconds(200))  // let its SUBSCRIBE land
        let publisher = try pki.device("pub")
        try await ExternalTools.check(
            "mosquitto_pub",
            Self.tlsArguments(pki, publisher, port: broker.port) + ["-i", "pub", "-t", "interop/q0", "-m", "zero"])
        try await ExternalTools.check(
            "mosquitto_pub",
            Self.tlsArguments(pki, publisher, port: broker.port) + [
                "-i", "pub", "-t", "interop/q1", "-m", "one", "-q", "1",
            ])
        #expect(try await offThePool { subscriber.waitForExit(within: 5) }, "mosquitto_sub got: \(subscriber.text)")
        #expect(
            subscriber.text.contains("interop/q0 zero") && subscriber.text.contains("interop/q1 one"),
            "\(subscriber.text)")

        // Retained: a later mosquitto_sub receives it at once.
        try await ExternalTools.check(
            "mosquitto_pub",
            Self.tlsArguments(pki, publisher, port: broker.port) + [
                "-i", "pub", "-t", "interop/retained", "-m", "kept", "-r", "-q", "1",
            ])
        let late = try await ExternalTools.check(
            "mosquitto_sub",
            Self.tlsArguments(pki, try pki.device("late"), port: broker.port) + [
                "-i", "late", "-t", "interop/retained", "-C", "1", "-W", "5",
            ])
        #expect(late.stdout.contains("kept"))

        // A mosquitto client without a certificate is refused at the TLS handshake.
        let anonymous = try await ExternalTools.run(
            "mosquitto_pub",
            [
                "-h", "127.0.0.1", "-p", "\(broker.port)", "--cafile", pki.caPath, "-i", "anon", "-t", "interop/x",
                "-m", "x",
            ])
        #expect(anonymous.status != 0)
    }

    /// mosquitto_sub -C 1 sends DISCONNECT after its one message: the session must end at once, its subscription
    /// with it, and the same client id connecting again is a new session, not a takeover.
    @Test func aClientThatSaysGoodbyeEndsItsSession() async throws {
        let broker = try await TestBroker()
        defer { Task { await broker.stop() } }
        let topic = "$aws/things/polite/notify"
        let arguments =
            Self.tlsArguments(broker.pki, try broker.pki.device("polite"), port: broker.port) + [
                "-i", "polite", "-t", topic, "-C", "1",
            ]
        for round in 1...2 {
            let subscriber = try BackgroundProcess("mosquitto_sub", arguments)
            #expect(
                await eventually { broker.server.subscriptionFilters(of: "polite") == [topic] },
                "mosquitto_sub did not subscribe: \(subscriber.text)")
            #expect(broker.server.connectedClientCount == 1)
            broker.server.deliver(toClientID: "polite", topic: topic, payload: Array("bye \(round)".utf8))
            #expect(try await offThePool { subscriber.waitForExit(within: 5) }, "mosquitto_sub got: \(subscriber.text)")
            // Its output is read by a thread of its own: wait for the last bytes rather than race them.
            #expect(await eventually(within: 2) { subscriber.text.contains("bye \(round)") }, "\(subscriber.text)")
            #expect(
                await eventually(within: 1) { broker.server.connectedClientCount == 0 },
                "the session outlived a clean DISCONNECT")
            #expect(broker.server.subscriptionFilters(of: "polite").isEmpty)
        }
        #expect(broker.server.takeoverCount == 0, "a reconnect after a goodbye is no takeover")
    }

    @Test func mosquittoWillAndPersistentSessionAgainstOurServer() async throws {
        let broker = try await TestBroker(authorizer: AllowAllAuthorizer())
        defer { Task { await broker.stop() } }
        let pki = broker.pki
        let watcher = try await broker.connected("watcher")
        let inbox = Inbox(watcher)
        _ = try await watcher.subscribe([Subscription(filter: "wills/#", qos: .atLeastOnce)])
        // A mosquitto_sub with a will, killed: our server publishes its will.
        let doomed = try BackgroundProcess(
            "mosquitto_sub",
            Self.tlsArguments(pki, try pki.device("doomed"), port: broker.port)
                + [
                    "-i", "doomed", "-t", "nothing", "--will-topic", "wills/doomed", "--will-payload", "gone",
                    "--will-qos", "1",
                ])
        #expect(await eventually { broker.server.connectedClientCount >= 2 })
        doomed.kill()
        let will = await inbox.next()
        #expect(will?.topic == "wills/doomed" && will.map { String(decoding: $0.payload, as: UTF8.self) } == "gone")

        // Persistent session: subscribe with clean session off, go away, messages wait, reconnect gets them.
        let files = try pki.device("durable")
        let first = try BackgroundProcess(
            "mosquitto_sub",
            Self.tlsArguments(pki, files, port: broker.port) + [
                "-i", "durable", "-c", "-q", "1", "-t", "queue/durable",
            ])
        #expect(await eventually { broker.server.connectedClientCount >= 2 })
        try await Task.sleep(for: .milliseconds(200))
        first.kill()
        #expect(await eventually { broker.server.connectedClientCount == 1 })
        try await watcher.publish(topic: "queue/durable", payload: Array("while-away".utf8), qos: .atLeastOnce)
        let second = try await ExternalTools.check(
            "mosquitto_sub",
            Self.tlsArguments(pki, files, port: broker.port) + [
                "-i", "durable", "-c", "-q", "1", "-t", "queue/durable", "-C", "1", "-W", "5",
            ])
        #expect(second.stdout.contains("while-away"))
    }

    @Test func ourClientTalksToARealMosquittoBroker() async throws {
        let pki = try TestPKI()
        let port = try freeLoopbackPort()
        let configuration = pki.directory.path("mosquitto.conf")
        try pki.directory.write(
            "mosquitto.conf",
            text: """
                listener \(port) 127.0.0.1
                cafile \(pki.caPath)
                certfile \(pki.directory.path("server.pem"))
                keyfile \(pki.directory.path("server.key"))
                require_certificate true
                use_identity_as_username true
                allow_anonymous false
                persistence false

                """)
        let mosquitto = try BackgroundProcess("mosquitto", ["-c", configuration])
        defer { mosquitto.kill() }
        func client(_ thing: String, cleanSession: Bool = true, will: Will? = nil) throws -> MQTTClient {
            MQTTClient(
                configuration: MQTTClientConfiguration(
                    host: "127.0.0.1", port: port, tls: try pki.clientTLS(try pki.device(thing)),
                    connect: ConnectPacket(clientID: thing, cleanSession: cleanSession, keepAlive: 30, will: will)))
        }
        let subscriber = try client("sub")
        #expect(
            await eventually {
                (try? await subscriber.connect()) != nil
            }, "mosquitto did not accept us: \(mosquitto.text)")
        let inbox = Inbox(subscriber)
        #expect(
            try await subscriber.subscribe([Subscription(filter: "ours/#", qos: .atLeastOnce)]) == [
                .granted(.atLeastOnce)
            ])
        let publisher = try client("pub", will: Will(topic: "ours/will", payload: Array("bye".utf8), qos: .atLeastOnce))
        try await publisher.connect()
        try await publisher.publish(topic: "ours/q0", payload: [0], qos: .atMostOnce)
        try await publisher.publish(topic: "ours/q1", payload: [1], qos: .atLeastOnce)
        try await publisher.publish(
            PublishPacket(topic: "ours/retained", payload: [2], qos: .atLeastOnce, retain: true))
        let received = [await inbox.next(), await inbox.next(), await inbox.next()].compactMap { $0 }
        #expect(Set(received.map(\.topic)) == ["ours/q0", "ours/q1", "ours/retained"])

        // Retained reaches a later subscriber; the will fires when the publisher vanishes.
        let late = try client("late")
        let lateInbox = Inbox(late)
        try await late.connect()
        _ = try await late.subscribe([Subscription(filter: "ours/retained", qos: .atLeastOnce)])
        #expect(await lateInbox.next()?.retain == true)
        await publisher.dropConnection()
        #expect(await inbox.next()?.topic == "ours/will")

        // Persistent session on mosquitto: QoS 1 messages wait for us.
        let durable = try client("durable", cleanSession: false)
        try await durable.connect()
        _ = try await durable.subscribe([Subscription(filter: "ours/durable", qos: .atLeastOnce)])
        await durable.disconnect()
        try await subscriber.publish(topic: "ours/durable", payload: [9], qos: .atLeastOnce)
        let back = try client("durable", cleanSession: false)
        let backInbox = Inbox(back)
        #expect(try await back.connect() == true)
        #expect(await backInbox.next()?.payload == [9])
        await subscriber.disconnect()
        await back.disconnect()
        await late.disconnect()
    }
}
