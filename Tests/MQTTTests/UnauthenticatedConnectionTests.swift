import MQTT
import TestSupport
import Testing

/// Sockets that never authenticate are closed at a deadline or shed at a cap, counted by reason, and leave
/// authenticated devices alone. Deadlines are shortened to ten seconds (one, three, then six closed the
/// well-behaved device's own handshake on a loaded machine running the whole suite); the waits are generous.
@Suite(.serialized) struct UnauthenticatedConnectionTests {
    static let quick = MQTTAdmissionLimits(tlsHandshakeTimeout: .seconds(10), connectTimeout: .seconds(10))

    /// Deadlines long enough that only the caps act during a test.
    static func capped(total: Int, perAddress: Int) -> MQTTAdmissionLimits {
        MQTTAdmissionLimits(
            tlsHandshakeTimeout: .seconds(120), connectTimeout: .seconds(120), maximumUnauthenticated: total,
            maximumUnauthenticatedPerAddress: perAddress)
    }

    @Test func everyStalledConnectionIsClosedAtItsDeadline() async throws {
        let broker = try await TestBroker(admission: Self.quick)
        defer { Task { await broker.stop() } }
        // The suite's first seconds load the machine so that even this device's handshake can outlast the short
        // deadline (CI saw it): it tries again, as devices do, and what it was shed is left out of the counts below.
        let device = try await Self.connected("good", to: broker, attempts: 3)
        let shedBefore = broker.server.shedCounts
        let pki = broker.pki

        let silent = try await RawConnection(port: broker.port, tls: nil)
        let halfRecord = try await RawConnection(port: broker.port, tls: nil)
        // A TLS handshake record header announcing 512 bytes, and one of them.
        // (On a loaded machine the short deadline may close a socket before its bytes go out: the same outcome.)
        try? await halfRecord.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        let noConnect = try await RawConnection(port: broker.port, tls: try pki.clientTLS(try pki.device("quiet")))
        #expect(await eventually { noConnect.isHandshakeCompleted })
        let halfConnect = try await RawConnection(port: broker.port, tls: try pki.clientTLS(try pki.device("half")))
        try? await halfConnect.send(Array(BadInputTests.connect("half").prefix(9)))

        let stalled =
            [("silent TCP", silent), ("half a TLS record", halfRecord), ("no CONNECT", noConnect)]
            + [("half a CONNECT", halfConnect)]
        for (name, connection) in stalled {
            #expect(await eventually(within: 20) { connection.isClosed }, "\(name): still open")
        }
        var expected = shedBefore
        expected.tlsHandshakeTimeout += 2
        expected.connectTimeout += 2
        #expect(broker.server.shedCounts == expected)
        #expect(halfConnect.packets.isEmpty, "closed without a CONNACK")
        // The device connected before every one of them, so its deadlines passed too: it is untouched.
        #expect(device.isConnected && broker.server.connectedClientCount == 1)
        #expect(broker.server.unauthenticatedConnectionCount == 0)
        await device.disconnect()
    }

    static func connected(_ thing: String, to broker: TestBroker, attempts: Int) async throws -> MQTTClient {
        for _ in 1..<attempts {
            if let client = try? await broker.connected(thing) { return client }
        }
        return try await broker.connected(thing)
    }

    @Test func oneAddressCannotTakeTheWholeAllowance() async throws {
        let broker = try await TestBroker(admission: Self.capped(total: 100, perAddress: 3))
        defer { Task { await broker.stop() } }
        var flood: [RawConnection] = []
        for _ in 0..<5 { flood.append(try await RawConnection(port: broker.port, tls: nil, from: "127.0.0.2")) }
        #expect(await eventually(within: 20) { flood.filter(\.isClosed).count == 2 })
        #expect(broker.server.shedCounts.perAddressLimit == 2 && broker.server.shedCounts.total == 2)
        #expect(broker.server.unauthenticatedConnectionCount == 3)

        // A device from another address gets in while the flood holds its three.
        let device = try await broker.connected("good")
        #expect(device.isConnected)
        #expect(flood.filter(\.isClosed).count == 2, "the held connections stay until their deadline")
        for connection in flood { await connection.close() }
        #expect(await eventually(within: 20) { broker.server.unauthenticatedConnectionCount == 0 })
        await device.disconnect()
    }

    @Test func theTotalCapShedsNewConnectionsUntilSlotsFreeUp() async throws {
        let broker = try await TestBroker(admission: Self.capped(total: 3, perAddress: 100))
        defer { Task { await broker.stop() } }
        var flood: [RawConnection] = []
        for _ in 0..<5 { flood.append(try await RawConnection(port: broker.port, tls: nil)) }
        #expect(await eventually(within: 20) { flood.filter(\.isClosed).count == 2 })
        #expect(broker.server.shedCounts.unauthenticatedLimit == 2 && broker.server.shedCounts.total == 2)

        // Full: a device is shed like anyone else (devices retry); once the held sockets go, it gets in.
        await #expect(throws: (any Error).self) { try await broker.connected("good") }
        #expect(broker.server.shedCounts.unauthenticatedLimit == 3)
        for connection in flood { await connection.close() }
        #expect(await eventually(within: 20) { broker.server.unauthenticatedConnectionCount == 0 })
        let device = try await broker.connected("good")
        #expect(device.isConnected && broker.server.unauthenticatedConnectionCount == 0)
        await device.disconnect()
    }
}
