import Hummingbird
import Logging

// Every /api/v1 call: who is calling (the admin token file, an operator's API token), whether their role may make
// it (AccessPolicy), and for every change, an audit entry with the resource before and after. A refusal is a 403
// with the role that would be needed, and is audited too; an unauthenticated call is a 401 and is not (anyone can
// send those; they are logged rate-limited with the other connection-level refusals).

struct AccessMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let adminToken: TokenFile
    let directory: OperatorDirectory
    let audit: AuditTrail
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let principal = try await authenticate(request)
        var context = context
        context.principal = principal
        let route = context.endpointPath ?? "unmatched"
        let action = "\(request.method.rawValue) \(route)"
        let parameter = { (name: String) in context.parameters.get(name).flatMap { $0.removingPercentEncoding } }
        let requirement = AccessPolicy.requirement(method: request.method, route: route)
        let subject = AuditSubject.of(route: route, parameter: parameter)
        guard AccessPolicy.allows(principal, requirement, parameter: parameter) else {
            await audit.record(entry(principal, context, action, subject, status: 403))
            let needed =
                switch requirement {
                case .role(let role): "the \(role.rawValue) role"
                case .selfOrAdmin: "the account itself or an admin"
                }
            throw ProblemDetails(
                status: .forbidden, kind: "forbidden",
                detail: "\(action) needs \(needed); \(principal.name) is \(principal.role.rawValue)")
        }
        guard request.method != .get, request.method != .head else { return try await next(request, context) }

        let before = await audit.snapshot(subject)
        let answer = AuditedAnswer()
        let response: Response
        do {
            response = try await AuditedAnswer.$current.withValue(answer) { try await next(request, context) }
        } catch {
            // Answered here, so that the entry carries the status the client gets.
            response = ProblemDetails(error, logger: logger).response
        }
        var record = entry(principal, context, action, subject, status: response.status.code)
        record.before = before
        if (200..<300).contains(response.status.code) {
            record.after =
                subject != nil ? await audit.snapshot(subject) : answer.kept.flatMap(AuditSubject.redactedAnswer)
        }
        await audit.record(record)
        return response
    }

    private func authenticate(_ request: Request) async throws -> Principal {
        guard let header = request.headers[.authorization] else {
            throw ProblemDetails(
                status: .unauthorized, kind: "unauthorized",
                detail: "send Authorization: Bearer <token> (an account's API token, or the admin token)")
        }
        // RFC 9110 §11.1: the scheme is case-insensitive ("bearer" and "BEARER" too).
        let parts = header.split(separator: " ", maxSplits: 1)
        if parts.count == 2, parts[0].lowercased() == "bearer" {
            let presented = parts[1].drop { $0 == " " }
            if adminToken.matches(presented) { return .adminTokenFile }
            if let principal = try await directory.principal(forToken: presented) { return principal }
        }
        throw ProblemDetails(status: .unauthorized, kind: "unauthorized", detail: "the token is not valid")
    }

    private func entry(
        _ principal: Principal, _ context: Context, _ action: String, _ subject: AuditSubject?, status: Int
    ) -> AuditEntry {
        AuditEntry(
            at: audit.now(), actor: principal.name, role: principal.role.rawValue, source: context.remoteAddress,
            action: action, target: subject?.label, status: status)
    }
}
