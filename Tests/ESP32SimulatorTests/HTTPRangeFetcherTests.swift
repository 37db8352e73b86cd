import ESP32Simulator
import OTAAgent
import TestSupport
import Testing

// The simulated device's HTTP client against a real HTTP(S) range server: exact 206 bodies over a kept-alive
// connection, statuses passed through, TLS refused unless the certificate chains to the device's CA and names the
// host, plain http:// allowed, and every failure reported as status 0.
@Suite struct HTTPRangeFetcherTests {
    static let file = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    /// Load-tolerant: a loopback TLS handshake on a busy two-core machine can take seconds.
    static let timeout = Duration.seconds(60)
    /// AsyncHTTPClient retries a refused TLS connection until the request's deadline, then reports the TLS error:
    /// long enough for a handshake under load, short enough not to hold the suite for a minute.
    static let refusalTimeout = Duration.seconds(10)

    @Test func httpsRangesComeBackExactOverAKeptAliveConnection() async throws {
        let pki = try HTTPTestPKI()
        let identity = try pki.server()
        let server = try await RangeFileServer(
            file: Self.file, certificatePEM: identity.certificatePEM, keyPEM: identity.keyPEM)
        let fetcher = try HTTPRangeFetcher(trustedCAPEM: pki.caPEM, timeout: Self.timeout)
        let url = server.url(scheme: "https")
        let ranges: [(UInt32, UInt32)] = [(0, 4095), (4096, 8191), (8192, 9999), (0, 0), (9999, 9999)]
        for (first, last) in ranges {
            let response = await fetcher.fetch(HTTPRangeRequest(url: url, first: first, last: last))
            #expect(response.status == 206, "\(response.failure ?? "")")
            #expect(response.body == Array(Self.file[Int(first)...Int(last)]))
        }
        #expect(server.requests.map(\.range) == ranges.map { "bytes=\($0.0)-\($0.1)" })
        #expect(server.requests.allSatisfy { $0.uri == "/data/file.bin?token=t1" }, "path and query used as-is")
        #expect(server.connections < ranges.count, "the connection is kept alive between requests")
        await fetcher.shutdown()
        await server.stop()
    }

    @Test func anExpiredURLsStatusReachesTheAgent() async throws {
        let pki = try HTTPTestPKI()
        let identity = try pki.server()
        let server = try await RangeFileServer(
            file: Self.file, certificatePEM: identity.certificatePEM, keyPEM: identity.keyPEM)
        server.expire(token: "t1")
        let fetcher = try HTTPRangeFetcher(trustedCAPEM: pki.caPEM, timeout: Self.timeout)
        let refused = await fetcher.fetch(HTTPRangeRequest(url: server.url(scheme: "https"), first: 0, last: 4095))
        #expect(refused.status == 403 && refused.failure == nil)
        let fresh = await fetcher.fetch(
            HTTPRangeRequest(url: server.url(scheme: "https", token: "t2"), first: 0, last: 4095))
        #expect(fresh.status == 206 && fresh.body.count == 4096)
        await fetcher.shutdown()
        await server.stop()
    }

    @Test func aServerCertificateFromAnotherCAIsRefused() async throws {
        let pki = try HTTPTestPKI()
        let identity = try pki.server(issuer: pki.rogue)
        let server = try await RangeFileServer(
            file: Self.file, certificatePEM: identity.certificatePEM, keyPEM: identity.keyPEM)
        let fetcher = try HTTPRangeFetcher(trustedCAPEM: pki.caPEM, timeout: Self.refusalTimeout)
        let response = await fetcher.fetch(HTTPRangeRequest(url: server.url(scheme: "https"), first: 0, last: 4095))
        #expect(response.status == 0 && response.body.isEmpty)
        #expect(response.failure?.contains("CERTIFICATE_VERIFY_FAILED") == true, "\(response.failure ?? "")")
        #expect(server.requests.isEmpty, "no request goes out over an untrusted connection")
        await fetcher.shutdown()
        await server.stop()
    }

    @Test func aCertificateForAnotherHostIsRefused() async throws {
        let pki = try HTTPTestPKI()
        let identity = try pki.server(hosts: ["ota.example"])
        let server = try await RangeFileServer(
            file: Self.file, certificatePEM: identity.certificatePEM, keyPEM: identity.keyPEM)
        let fetcher = try HTTPRangeFetcher(trustedCAPEM: pki.caPEM, timeout: Self.refusalTimeout)
        let response = await fetcher.fetch(HTTPRangeRequest(url: server.url(scheme: "https"), first: 0, last: 4095))
        #expect(response.status == 0)
        #expect(response.failure?.contains("failedToValidateHostname") == true, "\(response.failure ?? "")")
        #expect(server.requests.isEmpty)
        await fetcher.shutdown()
        await server.stop()
    }

    @Test func plainHTTPWorksAndADroppedConnectionIsStatusZero() async throws {
        let pki = try HTTPTestPKI()
        let server = try await RangeFileServer(file: Self.file)
        let fetcher = try HTTPRangeFetcher(trustedCAPEM: pki.caPEM, timeout: Self.timeout)
        let url = server.url(scheme: "http")
        let response = await fetcher.fetch(HTTPRangeRequest(url: url, first: 8192, last: 9999))
        #expect(response.status == 206 && response.body == Array(Self.file[8192...9999]))

        server.dropConnections(true)
        let dropped = await fetcher.fetch(HTTPRangeRequest(url: url, first: 0, last: 4095))
        #expect(dropped.status == 0 && dropped.body.isEmpty)
        await fetcher.shutdown()
        await server.stop()
    }

    @Test func aBodyLongerThanTheRangeIsCutOneBytePastIt() async throws {
        // A misbehaving server sends 5,000 bytes more than asked: the fetcher keeps length + 1, enough for the
        // agent to see the length is wrong, and buffers no more, like a device's bounded receive buffer.
        let pki = try HTTPTestPKI()
        let server = try await RangeFileServer(file: Self.file)
        server.padBodies(by: 5_000)
        let fetcher = try HTTPRangeFetcher(trustedCAPEM: pki.caPEM, timeout: Self.timeout)
        let response = await fetcher.fetch(HTTPRangeRequest(url: server.url(scheme: "http"), first: 0, last: 99))
        #expect(response.status == 206 && response.body.count == 101)
        #expect(Array(response.body.prefix(100)) == Array(Self.file[0..<100]))
        await fetcher.shutdown()
        await server.stop()
    }
}
