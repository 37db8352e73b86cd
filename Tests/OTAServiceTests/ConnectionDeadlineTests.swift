import Foundation
import MQTT
import NIOSSL
import OTAService
import TestSupport
import Testing

/// Both ports of a running service close sockets that stall before doing anything useful, and shed unauthenticated
/// floods on the device port, while devices and /healthz keep working. Deadlines are shortened to seconds (not one:
/// a loaded CI machine took longer than that for the test's own well-behaved TLS handshakes); the waits are generous.
@Suite(.serialized) struct ConnectionDeadlineTests {
    /// TLS to the API, trusting the service CA (the API asks for no client certificate).
    static func apiTLS(_ service: ServiceHarness) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(service.server.pki.caCertificatePath))
        return tls
    }

    /// Sockets that never finish a handshake or a request head: the handshake deadline (counted) and the idle
    /// timeout close them.
    @Test func stalledAPIConnectionsAreClosedAndHealthzStillAnswers() async throws {
        let service = try await ServiceHarness { configuration in
            configuration.apiLimits = APIConnectionLimits(
                tlsHandshakeTimeout: .seconds(3), idleTimeout: .seconds(4), requestTimeout: .seconds(300))
        }
        defer { Task { await service.shutdown() } }
        let port = try #require(service.server.apiPort)

        // Sends may find the socket closed already on a loaded machine (the deadline came first): that is the
        // outcome under test, not an error.
        let silent = try await RawConnection(port: port, tls: nil)
        let halfRecord = try await RawConnection(port: port, tls: nil)
        try? await halfRecord.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        let halfHead = try await RawConnection(port: port, tls: try Self.apiTLS(service), serverHostname: "localhost")
        try? await halfHead.send(Array("GET /healthz HTTP/1.1\r\nHost: localhost\r\n".utf8))
        for (name, connection) in [
            ("silent TCP", silent), ("half a TLS record", halfRecord), ("half a head", halfHead),
        ] {
            #expect(await eventually(within: 30) { connection.isClosed }, "\(name): still open")
        }
        // The silent socket and half a record; half a head too when a loaded machine stretched its handshake.
        #expect(service.server.apiShedCounts.tlsHandshakeTimeout >= 2)
        let caller = try APICaller(service, token: nil)
        #expect(try await caller.call(.GET, "/healthz").status == 200)
        await caller.shutdown()
        // Operators see the same counts in the status.
        let operatorAPI = try APICaller(service, token: try TokenFile.read(service.server.adminToken.path))
        let protection = try await operatorAPI.call(.GET, "/api/v1/status").object()["protection"] as? [String: Any]
        #expect(protection?["apiTLSHandshakeTimeouts"] as? Int == service.server.apiShedCounts.tlsHandshakeTimeout)
        await operatorAPI.shutdown()
    }

    /// A request whose body stalls, and one trickled a byte at a time (never idle), are both ended by the request
    /// deadline. The idle timeout is far longer here so that a loaded machine's pauses between trickled bytes cannot
    /// close the connection first (that race made an earlier version of this test flaky).
    @Test func theRequestDeadlineEndsStalledAndTrickledBodies() async throws {
        let service = try await ServiceHarness { configuration in
            configuration.apiLimits = APIConnectionLimits(
                tlsHandshakeTimeout: .seconds(30), idleTimeout: .seconds(120), requestTimeout: .seconds(5))
        }
        defer { Task { await service.shutdown() } }
        let port = try #require(service.server.apiPort)
        let token = try TokenFile.read(service.server.adminToken.path)
        func postHead(contentLength: Int) -> [UInt8] {
            Array(
                ("POST /api/v1/things HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: \(contentLength)\r\n\r\n").utf8)
        }

        let stalledBody = try await RawConnection(
            port: port, tls: try Self.apiTLS(service), serverHostname: "localhost")
        try await stalledBody.send(postHead(contentLength: 100) + Array("{\"na".utf8))
        let trickle = try await RawConnection(port: port, tls: try Self.apiTLS(service), serverHostname: "localhost")
        try await trickle.send(postHead(contentLength: 100_000))
        #expect(
            await eventually(within: 60) {
                try? await trickle.send([0x20])
                try? await Task.sleep(for: .milliseconds(200))
                return trickle.isClosed
            }, "a trickled body is still being read")
        #expect(await eventually(within: 30) { stalledBody.isClosed }, "a stalled body is still open")

        #expect(service.server.apiShedCounts.requestTimeout == 2)
        let caller = try APICaller(service, token: nil)
        #expect(try await caller.call(.GET, "/healthz").status == 200)
        await caller.shutdown()
    }

    @Test func anUnauthenticatedFloodIsShedWhileADeviceConnectsAndHealthzAnswers() async throws {
        let service = try await ServiceHarness { configuration in
            configuration.mqttAdmission = MQTTAdmissionLimits(
                tlsHandshakeTimeout: .seconds(120), connectTimeout: .seconds(120), maximumUnauthenticated: 1000,
                maximumUnauthenticatedPerAddress: 3)
        }
        defer { Task { await service.shutdown() } }
        var flood: [RawConnection] = []
        for _ in 0..<6 { flood.append(try await RawConnection(port: service.port, tls: nil, from: "127.0.0.2")) }
        #expect(await eventually(within: 20) { flood.filter(\.isClosed).count == 3 })
        #expect(service.server.mqtt.shedCounts.perAddressLimit == 3 && service.server.mqtt.shedCounts.total == 3)

        let device = try await service.device("good")
        #expect(device.client.isConnected)
        let caller = try APICaller(service, token: nil)
        #expect(try await caller.call(.GET, "/healthz").status == 200)
        await caller.shutdown()
        for connection in flood { await connection.close() }
        await device.close()
    }
}
