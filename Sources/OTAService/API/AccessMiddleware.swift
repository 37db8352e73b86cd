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
        let parameter = { (name: String) in context.parameters.get(name).flatMap { $0.percentDecoded } }
        let requirement = AccessPolicy.requirement(method: request.method, route: route)
        let subject = AuditSubject.of(route: route, parameter: parameter)
        let entry = audit.entry(principal, source: context.remoteAddress, action: action, subject: subject)
        guard AccessPolicy.allows(principal, requirement, parameter: parameter) else {
            var refusal = entry
            refusal.status = 403
            await audit.record(refusal)
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

        return await audit.change(entry, subject: subject) {
            do { return try await next(request, context) } catch {
                return ProblemDetails(error, logger: logger).response
            }
        }
    }

    private func authenticate(_ request: Request) async throws -> Principal {
        let presented = try BearerCredential.presented(
            in: request, expected: "an account's API token, or the admin token")
        if adminToken.matches(presented) { return .adminTokenFile }
        if let principal = try await directory.principal(forToken: presented) { return principal }
        throw BearerCredential.invalid
    }
}
