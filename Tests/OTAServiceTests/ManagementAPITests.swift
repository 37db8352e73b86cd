import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import OTAService
import TestSupport
import Testing

/// HTTPS calls to the harness's management API, trusting the service CA, as any client would make them.
struct APICaller {
    let base: String
    let token: String?
    /// The Authorization scheme as the client spells it.
    let scheme: String
    let client: HTTPClient

    init(_ service: ServiceHarness, token: String?, scheme: String = "Bearer") throws {
        base = "https://localhost:\(service.server.apiPort ?? 0)"
        self.token = token
        self.scheme = scheme
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(service.server.pki.caCertificatePath))
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        // The whole suite runs in parallel on 2 shared cores: a connection and its TLS handshake took over 5 s there
        // once (CI of stop 36), with nothing wrong but the load. A hang still fails, at 30 s.
        configuration.timeout = .init(connect: .seconds(30), read: .seconds(30))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    struct Answer {
        let status: Int
        let contentType: String?
        let body: [UInt8]
        var headers = HTTPHeaders()
        var text: String { String(decoding: body, as: UTF8.self) }
        func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(body)) }
        func object() throws -> [String: Any] { try #require(try json() as? [String: Any]) }
    }

    func call(_ method: HTTPMethod, _ path: String, json: String? = nil, bytes: [UInt8]? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: scheme + " " + token) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        } else if let bytes {
            request.headers.add(name: "Content-Type", value: "application/octet-stream")
            request.body = .bytes(ByteBuffer(bytes: bytes))
        }
        return try await execute(request)
    }

    /// GET of a whole URL (a data URL from a job document), with no token: devices send none.
    func fetch(_ url: String, range: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        if let range { request.headers.add(name: "Range", value: range) }
        return try await execute(request)
    }

    private func execute(_ request: HTTPClientRequest) async throws -> Answer {
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 32 << 20)
        return Answer(
            status: Int(response.status.code), contentType: response.headers.first(name: "Content-Type"),
            body: Array(body.readableBytesView), headers: response.headers)
    }

    func shutdown() async { try? await client.shutdown() }
}

@Suite(.serialized) struct ManagementAPITests {
    static func token(_ service: ServiceHarness) throws -> String {
        try TokenFile.read(service.server.adminToken.path)
    }

    @Test func callsWithoutOrWithAWrongTokenAreRefusedAndChangeNothing() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let mode = try FileManager.default.attributesOfItem(atPath: service.server.adminToken.path)[.posixPermissions]
        #expect((mode as? NSNumber)?.intValue == 0o600)

        let right = try Self.token(service)
        let oneCharacterOff = String(right.dropLast()) + (right.hasSuffix("0") ? "1" : "0")
        for token in [nil, "wrong", oneCharacterOff] {
            let caller = try APICaller(service, token: token)
            let created = try await caller.call(.POST, "/api/v1/things", json: #"{"name":"intruder"}"#)
            #expect(created.status == 401 && created.contentType == "application/problem+json")
            #expect(try created.object()["type"] as? String == "https://swiftota.dev/problems/unauthorized")
            #expect(try await caller.call(.GET, "/api/v1/things").status == 401)
            await caller.shutdown()
        }
        #expect(try await service.server.store.read { try $0.things() }.isEmpty)

        let anonymous = try APICaller(service, token: nil)
        #expect(try await anonymous.call(.GET, "/healthz").status == 200)
        let openAPI = try await anonymous.call(.GET, "/api/v1/openapi.json")
        let paths = try #require(try openAPI.object()["paths"] as? [String: Any])
        for path in [
            "/api/v1/things", "/api/v1/updates", "/api/v1/jobs/{id}/executions", "/api/v1/files", "/api/v1/users",
            "/api/v1/users/{name}/tokens", "/api/v1/audit", "/metrics",
        ] {
            #expect(paths[path] != nil, "\(path) is documented")
        }
        await anonymous.shutdown()
    }

    @Test func anUpdateEndToEndThroughTheAPI() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let api = try APICaller(service, token: try Self.token(service))
        defer { Task { await api.shutdown() } }

        #expect(
            try await api.call(.POST, "/api/v1/things", json: #"{"name":"d1","attributes":{"ring":"beta"}}"#).status
                == 201)
        #expect(
            try await api.call(.POST, "/api/v1/groups", json: #"{"name":"beta","query":"ring=beta"}"#).status == 201)
        let group = try await api.call(.GET, "/api/v1/groups/beta").object()
        #expect(group["members"] as? [String] == ["d1"])

        let issued = try await api.call(.POST, "/api/v1/things/d1/certificates", json: "{}")
        #expect(issued.status == 201)
        let issuedObject = try issued.object()
        #expect((issuedObject["privateKeyPEM"] as? String)?.contains("PRIVATE KEY") == true)
        let thing = try await api.call(.GET, "/api/v1/things/d1").object()
        #expect((thing["certificates"] as? [[String: Any]])?.first?["status"] as? String == "ACTIVE")
        #expect(thing["groups"] as? [String] == ["beta"])

        let profile = try await api.call(.POST, "/api/v1/signing-profiles", json: #"{"name":"gen","generateKey":true}"#)
        #expect(profile.status == 201)
        #expect(try profile.object()["signsForYou"] as? Bool == true)
        let keyMode = try FileManager.default.attributesOfItem(
            atPath: service.server.configuration.dataDirectory + "/signing/gen.key")[.posixPermissions]
        #expect((keyMode as? NSNumber)?.intValue == 0o600)

        let (_, image) = try await service.uploadFirmware(version: "9.9.9", payloadSize: 5000)
        let uploaded = try await api.call(.POST, "/api/v1/files?name=fw.bin&kind=app", bytes: image)
        #expect(uploaded.status == 201)
        let fileID = try #require(try uploaded.object()["id"] as? String)
        #expect(try uploaded.object()["version"] as? String == "9.9.9")

        let created = try await api.call(
            .POST, "/api/v1/updates",
            json:
                #"{"id":"api1","fileID":"\#(fileID)","signingProfile":"gen","groups":["beta"],"targetSelection":"CONTINUOUS"}"#
        )
        #expect(created.status == 201, "\(created.text)")
        let progress = try #require(try created.object()["progress"] as? [String: Any])
        #expect(progress["queued"] as? Int == 1)
        let executions = try await api.call(.GET, "/api/v1/jobs/AFR_OTA-api1/executions")
        #expect((try executions.json() as? [[String: Any]])?.first?["thingName"] as? String == "d1")

        let canceled = try await api.call(.POST, "/api/v1/updates/api1/cancel", json: #"{"force":true}"#)
        #expect((try canceled.object()["job"] as? [String: Any])?["status"] as? String == "CANCELED")
        #expect(try await service.execution("AFR_OTA-api1", "d1")?.status == .canceled)
    }

    @Test func badRequestsGetProblemDetailsAndChangeNothing() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let api = try APICaller(service, token: try Self.token(service))
        defer { Task { await api.shutdown() } }
        _ = try await api.call(.POST, "/api/v1/things", json: #"{"name":"d1"}"#)

        let cases: [(HTTPMethod, String, String?, [UInt8]?, Int, String)] = [
            (.POST, "/api/v1/things", #"{"name":"#, nil, 400, "invalid-json"),
            (.POST, "/api/v1/things", #"{"nom":"x"}"#, nil, 400, "invalid-json"),
            (.POST, "/api/v1/things", #"{"name":"has space"}"#, nil, 400, "invalid-request"),
            (.POST, "/api/v1/things", #"{"name":"d1"}"#, nil, 409, "conflict"),
            (.GET, "/api/v1/things/ghost", nil, nil, 404, "not-found"),
            (.GET, "/api/v1/no-such-route", nil, nil, 404, "not-found"),
            (.POST, "/api/v1/files?name=x.bin&kind=app", nil, Array("not an image".utf8), 400, "invalid-request"),
            (.POST, "/api/v1/files?name=x.bin&kind=firmware", nil, [1, 2, 3], 400, "invalid-request"),
            (
                .POST, "/api/v1/updates", #"{"id":"u","fileID":"00","signingProfile":"demo","things":["d1"]}"#, nil,
                404, "not-found"
            ),
            (.POST, "/api/v1/groups/none/members", #"{"thing":"d1"}"#, nil, 404, "not-found"),
            (.POST, "/api/v1/certificates/abcd/revoke", nil, nil, 404, "not-found"),
            (
                .POST, "/api/v1/groups", #"{"name":"big","description":"\#(String(repeating: "x", count: 1 << 20))"}"#,
                nil, 413, "too-large"
            ),
        ]
        for (method, path, json, bytes, status, kind) in cases {
            let answer = try await api.call(method, path, json: json, bytes: bytes)
            #expect(answer.status == status, "\(method) \(path): \(answer.text)")
            #expect(answer.contentType == "application/problem+json")
            #expect(try answer.object()["type"] as? String == "https://swiftota.dev/problems/" + kind, "\(path)")
        }
        let state = try await service.server.store.read { reader in
            (try reader.things().map(\.name), try reader.files().count, try reader.updates().count)
        }
        #expect(state.0 == ["d1"] && state.1 == 0 && state.2 == 0)
    }

    @Test func aRevokedCertificateCanNoLongerConnect() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let api = try APICaller(service, token: try Self.token(service))
        defer { Task { await api.shutdown() } }
        let device = try await service.device("victim")
        let fingerprint = try #require(try await service.server.store.read { try $0.certificates(of: "victim") }.first)
            .fingerprint
        let revoked = try await api.call(.POST, "/api/v1/certificates/\(fingerprint)/revoke")
        #expect(revoked.status == 200)
        #expect(try revoked.object()["status"] as? String == "REVOKED")
        await #expect(throws: (any Error).self) { _ = try await service.reconnect(device) }
    }
}
