import AsyncHTTPClient
import NIOCore
import NIOSSL
import OTAAgent

// The simulated ESP32's HTTP client for the agent's data plane (aws-ota-wire.md §8): `GET url` with
// `Range: bytes=a-b`, the URL used as-is, over a kept-alive connection, HTTP/1.1 only, no redirects, a deadline per
// request, and for https:// the server certificate verified against the device's CA file, host name included — the
// same trust as its MQTT connection.
//
// AsyncHTTPClient rather than a hand-made NIO client: it already pools and keeps connections alive, verifies the
// host name through NIOSSL, bounds connect and read times and parses HTTP/1.1; what a device needs beyond that (a
// body bounded to the block, status 0 for every failure) fits in this file.
//
// Plain http:// is allowed too (the local S3 server in tests). That is acceptable for a device because the URL
// arrives over MQTT with mutual TLS, so nobody but the service chose it, and the bytes are not trusted anyway: the
// platform verifies the image's ECDSA signature before activating it, and the bootloader its secure boot signature.
// What plain HTTP gives away is the image's confidentiality, as with any unencrypted S3 endpoint.

public final class HTTPRangeFetcher: Sendable {
    public struct Response: Equatable, Sendable {
        /// The HTTP status, or 0 when no response came (connection refused or dropped, TLS refused, timeout).
        public let status: Int
        /// The body, cut after one byte more than the range asked for (the agent refuses any other length).
        public let body: [UInt8]
        public let failure: String?

        public init(status: Int, body: [UInt8], failure: String? = nil) {
            self.status = status
            self.body = body
            self.failure = failure
        }
    }

    let client: HTTPClient
    let timeout: Duration

    /// `trustedCAPEM`: the CA certificates (PEM) an https:// server's certificate must chain to.
    public init(trustedCAPEM: String, timeout: Duration = .seconds(5)) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(trustedCAPEM.utf8)))
        tls.certificateVerification = .fullVerification
        tls.minimumTLSVersion = .tlsv12
        let limit = Self.timeAmount(timeout)
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: HTTPClient.Configuration.Timeout(connect: limit, read: limit))
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.timeout = timeout
    }

    /// Runs one request; never throws: every failure is status 0, which the agent retries on its timer. A refused
    /// TLS connection takes the whole timeout (AsyncHTTPClient tries to connect again until the deadline) and then
    /// reports the TLS error in `failure`.
    public func fetch(_ request: HTTPRangeRequest) async -> Response {
        var http = HTTPClientRequest(url: request.url.description)
        http.headers.add(name: "Range", value: request.rangeHeader)
        do {
            let response = try await client.execute(http, deadline: .now() + Self.timeAmount(timeout))
            var body: [UInt8] = []
            for try await chunk in response.body {
                body += chunk.readableBytesView
                // A device's receive buffer is bounded; more than the block is wrong whatever follows.
                if body.count > request.length { break }
            }
            return Response(status: Int(response.status.code), body: Array(body.prefix(request.length + 1)))
        } catch {
            return Response(status: 0, body: [], failure: "\(error)")
        }
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// Closes the pooled connections; the fetcher must not be used afterwards.
    public func shutdown() async {
        try? await client.shutdown()
    }
}
