import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import S3
import TestSupport
import Testing

/// Runs `body` against a moto server of its own, stopped afterwards whatever happens; on failure, what moto logged
/// is attached to the test's issues.
func withMoto(
    authenticating: Bool = true, settings: [String: String] = [:], _ body: (MotoServer) async throws -> Void
) async throws {
    let server = try await MotoServer.start(authenticating: authenticating, settings: settings)
    defer { server.stop() }
    do {
        try await body(server)
    } catch {
        Issue.record("moto's log, last lines:\n\(server.output.suffix(3000))")
        throw error
    }
}

extension MotoServer {
    var credentials: S3Credentials { S3Credentials(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey) }

    func endpoint() throws -> S3Endpoint { try S3Endpoint(url: endpointURL, region: "us-east-1", pathStyle: true) }

    func client(
        credentials: S3Credentials? = nil, multipartThreshold: Int = 16 << 20, partSize: Int = 8 << 20
    ) throws -> S3Client {
        S3Client(
            endpoint: try endpoint(), credentials: credentials ?? self.credentials,
            multipartThreshold: multipartThreshold, partSize: partSize)
    }

    /// A request signed with the public signer and sent as is: bucket creation (the client has none) and checks of
    /// what the server answers on the wire (a 206, an UNSIGNED-PAYLOAD upload).
    func signedRequest(
        _ method: HTTPMethod, _ path: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
        payload: SigV4Signer.Payload = .empty
    ) async throws -> (status: UInt, headers: [(String, String)], body: [UInt8]) {
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1")
        let request = SigV4Signer.Request(
            method: method.rawValue, path: path, headers: [("Host", "127.0.0.1:\(port)")] + headers)
        let signed = signer.sign(request, payload: payload, date: Date())
        var outgoing = HTTPClientRequest(url: endpointURL + request.encodedPath)
        outgoing.method = method
        for (name, value) in signed.headers { outgoing.headers.add(name: name, value: value) }
        outgoing.body = .bytes(ByteBuffer(bytes: body ?? []))
        let response = try await S3Client.defaultHTTPClient.execute(outgoing, timeout: .seconds(120))
        let collected = try await response.body.collect(upTo: 64 << 20)
        return (response.status.code, response.headers.map { ($0.name, $0.value) }, Array(collected.readableBytesView))
    }

    func createBucket(_ bucket: String) async throws {
        let response = try await signedRequest(.PUT, "/" + bucket)
        #expect(response.status == 200, "CreateBucket \(bucket): \(String(decoding: response.body, as: UTF8.self))")
    }
}

/// Deterministic bytes of a given length (every test run uploads the same objects).
func testBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    var bytes = [UInt8]()
    bytes.reserveCapacity(count + 8)
    while bytes.count < count { withUnsafeBytes(of: generator.next()) { bytes += $0 } }
    return Array(bytes.prefix(count))
}

func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
    SHA256.hash(data: Array(bytes)).map { String(format: "%02x", $0) }.joined()
}
