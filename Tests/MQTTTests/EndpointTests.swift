import MQTT
import TestSupport
import Testing

/// Several servers without a load balancer in front: a client tries them in turn, moving on from one it cannot
/// reach, round the list.
@Suite struct EndpointTests {
    @Test(arguments: [
        ("localhost:8883", "localhost", 8883), ("10.0.0.7:1", "10.0.0.7", 1), ("[::1]:8883", "::1", 8883),
    ])
    func endpointsParse(text: String, host: String, port: Int) throws {
        let endpoint = try #require(MQTTEndpoint(parsing: text))
        #expect(endpoint == MQTTEndpoint(host: host, port: port))
        #expect(endpoint.description == text)
    }

    @Test(arguments: ["", "localhost", "localhost:", ":8883", "host:0", "host:65536", "host:x", "a b:1", "[::1]"])
    func malformedEndpointsAreRefused(text: String) {
        #expect(MQTTEndpoint(parsing: text) == nil)
    }

    @Test func aClientMovesOnFromAServerItCannotReachToTheNext() async throws {
        let first = try await TestBroker()
        let second = try await TestBroker(pki: first.pki)
        defer { Task { await second.stop() } }
        var configuration = try first.client("roamer").configuration
        configuration.port = try freeLoopbackPort()  // nobody listens there
        configuration.alternateEndpoints = [
            MQTTEndpoint(host: "127.0.0.1", port: first.port), MQTTEndpoint(host: "127.0.0.1", port: second.port),
        ]
        let client = MQTTClient(configuration: configuration)
        await #expect(throws: (any Error).self) { try await client.connect() }
        #expect(client.endpoint.port == first.port)
        try await client.connect()
        #expect(first.server.connectedClientCount == 1)

        // The instance goes away (its listener closed, the link dropped): the next attempt fails there, and the
        // one after reaches the other.
        await first.stop()
        await client.dropConnection()
        await #expect(throws: (any Error).self) { try await client.connect() }
        try await client.connect()
        #expect(client.endpoint.port == second.port && second.server.connectedClientCount == 1)
        await client.disconnect()
    }
}
