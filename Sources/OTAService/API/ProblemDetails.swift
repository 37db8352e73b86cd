import CodeSigning
import Foundation
import Hummingbird
import Logging

// RFC 9457 problem details for every failed API call: `application/problem+json` with type, title, status and
// detail. Internal errors are logged with their cause and answered without it.

struct ProblemDetails: Encodable, Error {
    var type: String
    var title: String
    var status: Int
    var detail: String
    /// Sent with the problem, not in it (a 416's `Content-Range`).
    var headers: HTTPFields = [:]

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail
    }

    init(status: HTTPResponse.Status, kind: String, detail: String, headers: HTTPFields = [:]) {
        type = "https://swiftota.dev/problems/" + kind
        title = Self.titles[status.code] ?? (status.reasonPhrase.isEmpty ? "Error" : status.reasonPhrase)
        self.status = status.code
        self.detail = detail
        self.headers = headers
    }

    /// Standard reason phrases; statuses made from a bare code carry none.
    static let titles = [
        400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
        409: "Conflict", 413: "Content Too Large", 416: "Range Not Satisfiable", 500: "Internal Server Error",
        503: "Service Unavailable",
    ]

    init(_ error: any Error, logger: Logger) {
        switch error {
        case let problem as ProblemDetails:
            self = problem
        case let error as OTAServiceError:
            self.init(status: .init(code: error.httpStatus), kind: error.kind, detail: error.description)
        case let error as CodeSigningError:
            self.init(status: .badRequest, kind: "invalid-request", detail: error.description)
        case let error as DecodingError:
            self.init(status: .badRequest, kind: "invalid-json", detail: Self.describe(error))
        case let error as StoreError:
            switch error {
            case .notFound: self.init(status: .notFound, kind: "not-found", detail: error.description)
            case .conflict: self.init(status: .conflict, kind: "conflict", detail: error.description)
            case .corrupt:
                logger.error("store failure", metadata: ["error": "\(error)"])
                self.init(status: .internalServerError, kind: "internal-error", detail: "the store failed")
            case .unavailable:
                logger.warning("database unavailable", metadata: ["error": "\(error)"])
                self.init(
                    status: .serviceUnavailable, kind: "database-unavailable",
                    detail: "the database cannot be reached; try again shortly")
            }
        case let error as any HTTPResponseError:
            let kind = error.status == .notFound ? "not-found" : "http-\(error.status.code)"
            self.init(status: error.status, kind: kind, detail: error.status.reasonPhrase)
        default:
            logger.error("API request failed", metadata: ["error": "\(error)"])
            self.init(
                status: .internalServerError, kind: "internal-error", detail: "the request could not be completed")
        }
    }

    var response: Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(self)) ?? Data()
        var fields = headers
        fields[.contentType] = "application/problem+json"
        return Response(
            status: .init(code: status),
            headers: fields,
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map(\.stringValue).joined(separator: ".")
            return keys.isEmpty ? "" : " at '\(keys)'"
        }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "wrong or missing value\(path(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "missing field '\(key.stringValue)'\(path(context))"
        case .dataCorrupted(let context):
            return "malformed JSON\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "malformed JSON"
        }
    }
}

/// Turns every error below it into problem details.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            return ProblemDetails(error, logger: logger).response
        }
    }
}

/// JSON in and out.
enum APIBody {
    static let maximumJSONBytes = 1 << 20
    /// Files up to 16 MiB: the largest ESP32 app partition.
    static let maximumFileBytes = 16 << 20

    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        try decode(T.self, json: try await collect(request, upTo: maximumJSONBytes))
    }

    /// As `decode`, but an empty body means "no options" (nil).
    static func decodeIfPresent<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T? {
        let buffer = try await collect(request, upTo: maximumJSONBytes)
        guard buffer.readableBytes > 0 else { return nil }
        return try decode(T.self, json: buffer)
    }

    /// A collected body as `T` (also what Fuzz/APIBody feeds).
    static func decode<T: Decodable>(_ type: T.Type, json buffer: ByteBuffer) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
    }

    static func collect(_ request: Request, upTo limit: Int) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: limit)
        } catch {
            throw ProblemDetails(
                status: .contentTooLarge, kind: "too-large", detail: "the request body exceeds \(limit) bytes")
        }
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = Array(try encoder.encode(value))
        // A change's answer is its audit entry's "after" (AccessMiddleware).
        AuditedAnswer.current?.keep(bytes)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
