import Hummingbird

// `Authorization: Bearer <token>`, read the same way wherever a token is asked for: the API (AccessMiddleware) and
// /metrics (BearerTokenMiddleware). RFC 9110 §11.1: the scheme is case-insensitive ("bearer" and "BEARER" too).

enum BearerCredential {
    /// The token presented; a 401 naming `expected` without an Authorization header, a 401 for another scheme.
    static func presented(in request: Request, expected: String) throws -> Substring {
        guard let header = request.headers[.authorization] else {
            throw ProblemDetails(
                status: .unauthorized, kind: "unauthorized", detail: "send Authorization: Bearer <\(expected)>")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw invalid }
        return parts[1].drop { $0 == " " }
    }

    static let invalid = ProblemDetails(status: .unauthorized, kind: "unauthorized", detail: "the token is not valid")
}

/// Requires a bearer token that is one of `tokens` (`expected` names them in the refusal).
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: [TokenFile]
    let expected: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let presented = try BearerCredential.presented(in: request, expected: expected)
        guard tokens.contains(where: { $0.matches(presented) }) else { throw BearerCredential.invalid }
        return try await next(request, context)
    }
}
