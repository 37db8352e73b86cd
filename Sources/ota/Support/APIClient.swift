import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import OTAService

/// Where the management API is and how to authenticate: `--data-dir` of a local service gives both the token and
/// the CA; `--token-file` and `--ca` name them one by one (the CA is optional for publicly trusted servers).
struct ConnectionOptions: ParsableArguments {
    @Option(help: "The service's management API.")
    var server = ProcessInfo.processInfo.environment["OTA_SERVER"] ?? "https://localhost:8443"

    @Option(
        name: .customLong("data-dir"),
        help: "Data directory of a local `ota serve`: its admin-token and pki/ca.pem are used (or OTA_DATA_DIR).")
    var dataDirOption: String?

    @Option(
        name: .customLong("token-file"),
        help: ArgumentHelp(
            "File holding an API token, mode 0600: an account's (ota users token create --out) or the admin token "
                + "(or OTA_TOKEN_FILE)."))
    var tokenFileOption: String?

    @Option(name: .customLong("ca"), help: "PEM CA certificate to trust for the server (or OTA_CA).")
    var caOption: String?

    // An option left out falls back to its environment variable.
    var dataDir: String? { dataDirOption ?? ProcessInfo.processInfo.environment["OTA_DATA_DIR"] }
    var tokenFile: String? { tokenFileOption ?? ProcessInfo.processInfo.environment["OTA_TOKEN_FILE"] }
    var ca: String? { caOption ?? ProcessInfo.processInfo.environment["OTA_CA"] }

    /// Opens a client, runs `body`, and always shuts the client down.
    func withClient<T>(_ body: (APIClient) async throws -> T) async throws -> T {
        guard let tokenPath = tokenFile ?? dataDir.map({ $0 + "/admin-token" }) else {
            throw CLIError("say where the API token is: --data-dir DIR (of `ota serve`) or --token-file FILE")
        }
        let token = try TokenFile.read(tokenPath)
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caPath = ca ?? dataDir.map({ $0 + "/pki/ca.pem" }) {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caPath))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(120))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let client = APIClient(
            base: server.hasSuffix("/") ? String(server.dropLast()) : server, token: token, http: http)
        do {
            let result = try await body(client)
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}

/// JSON calls to /api/v1; a problem-details answer becomes a CLIError with the server's words.
struct APIClient {
    let base: String
    let token: String
    let http: HTTPClient

    func get<T: Decodable>(_ path: String, as type: T.Type = T.self) async throws -> T {
        try decode(try await call(.GET, path))
    }

    func send<T: Decodable>(
        _ method: HTTPMethod, _ path: String, json: [String: Any]? = nil, bytes: [UInt8]? = nil,
        as type: T.Type = T.self
    ) async throws -> T {
        let body = try json.map { try JSONSerialization.data(withJSONObject: $0) }
        return try decode(try await call(method, path, body: body.map(Array.init) ?? bytes, isJSON: json != nil))
    }

    func send(_ method: HTTPMethod, _ path: String, json: [String: Any]? = nil) async throws {
        let body = try json.map { try JSONSerialization.data(withJSONObject: $0) }
        _ = try await call(method, path, body: body.map(Array.init), isJSON: true)
    }

    private func call(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, isJSON: Bool = true) async throws
        -> [UInt8]
    {
        var request = HTTPClientRequest(url: base + "/api/v1" + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer " + token)
        if let body {
            request.headers.add(name: "Content-Type", value: isJSON ? "application/json" : "application/octet-stream")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(120))
        } catch {
            throw CLIError("cannot reach \(base): \(error). Is `ota serve` running, and is --server right?")
        }
        let bytes = Array(try await response.body.collect(upTo: 64 << 20).readableBytesView)
        guard (200..<300).contains(response.status.code) else {
            let problem = try? JSONDecoder().decode(Problem.self, from: Data(bytes))
            throw CLIError(
                "\(response.status.code) \(problem?.title ?? response.status.reasonPhrase): "
                    + (problem?.detail ?? String(decoding: bytes.prefix(300), as: UTF8.self)))
        }
        return bytes
    }

    private func decode<T: Decodable>(_ bytes: [UInt8]) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw CLIError("the server's answer was not what this ota expects: \(error)")
        }
    }

    struct Problem: Decodable {
        var title: String
        var detail: String
    }
}

/// A path segment with reserved characters escaped (thing names may hold ':').
func pathSegment(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/")))
        ?? text
}

/// "2026-11-25 12:00:00" in UTC from seconds since the epoch.
func timestamp(_ seconds: Int64?) -> String {
    guard let seconds else { return "never" }
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))) + "Z"
}
