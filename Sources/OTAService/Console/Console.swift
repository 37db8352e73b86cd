import Hummingbird
import Logging

// The web console, served by `ota serve` on the API's HTTPS port under /console: sign-in with a password, a
// session cookie (HttpOnly, Secure, SameSite=Strict), a CSRF token in every form, the security headers of
// `HTML.securityHeaders` on every answer. Pages call the same registry, updates and engine as the JSON API, with the
// same roles (a page or action a role may not use is a 403 page) and the same audit trail.

struct Console: Sendable {
    let server: OTAServer
    let logger: Logger

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("") { _, _ in HTML.redirect(to: "/console/updates") }
        let console = router.group("console")
        console.get("assets/console.css") { _, _ in asset(ConsoleAssets.stylesheet, type: "text/css; charset=utf-8") }
        console.get("assets/console.js") { _, _ in
            asset(ConsoleAssets.script, type: "text/javascript; charset=utf-8")
        }
        let pages = console.group().add(middleware: ConsoleSessionMiddleware(sessions: server.sessions))
        addLoginRoutes(to: console, pages: pages)
        pages.get("") { _, _ in HTML.redirect(to: "/console/updates") }
        addUpdatePages(to: pages)
        addFleetPages(to: pages)
        addFilePages(to: pages)
        addAuditPage(to: pages)
    }

    private func asset(_ text: String, type: String) -> Response {
        var headers = HTML.securityHeaders
        headers[.contentType] = type
        headers[.cacheControl] = "max-age=300"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: Helpers for pages

    /// The form a page posted, its CSRF token checked against the session's: a missing, forged or replayed token
    /// (another session's, a logged-out one's) is a 403 and nothing happens.
    static func form(_ request: Request, _ context: APIRequestContext, limit: Int = 1 << 20) async throws -> FormData {
        let bytes = Array(try await APIBody.collect(request, upTo: limit).readableBytesView)
        let type = request.headers[.contentType] ?? ""
        let form: FormData
        if type.lowercased().hasPrefix("multipart/form-data"),
            let boundary = type.split(separator: ";").lazy.map({ $0.trimmingCharacters(in: .whitespaces) })
                .first(where: { $0.hasPrefix("boundary=") })?.dropFirst("boundary=".count)
        {
            form = try FormData.multipart(bytes, boundary: String(boundary).trimmingCharacters(in: ["\""]))
        } else {
            form = try FormData.urlEncoded(bytes)
        }
        guard let expected = context.csrfToken, let presented = form.value("csrf"),
            Secrets.equal(expected.utf8, presented.utf8)
        else {
            throw ProblemDetails(
                status: .forbidden, kind: "forbidden", detail: "the form's CSRF token is missing or not this session's")
        }
        return form
    }

    /// Runs a change a page asks for: the role checked (a refusal is audited and answered 403), the subject read
    /// before and after, the entry written whatever the outcome, and an error answered as a page.
    func change(
        _ request: Request, _ context: APIRequestContext, action: String, needs role: OperatorRole,
        subject: AuditSubject?, _ body: () async throws -> Response
    ) async throws -> Response {
        let principal = try Self.principal(context)
        let entry = server.audit.entry(
            principal, source: context.remoteAddress, action: "\(request.method.rawValue) \(action)", subject: subject)
        guard principal.may(role) else { return await refuse(entry, context, needs: role) }
        return await server.audit.change(entry, subject: subject) {
            do { return try await body() } catch {
                let problem = ProblemDetails(error, logger: logger)
                return HTML.page(
                    "Not done", body: "<p class=\"notice error\">\(HTML.escape(problem.detail))</p>",
                    principal: principal, csrf: context.csrfToken, status: .init(code: problem.status))
            }
        }
    }

    /// A page or action the caller's role may not use: audited, answered with a 403 page.
    func refuse(_ entry: AuditEntry, _ context: APIRequestContext, needs role: OperatorRole) async -> Response {
        var refusal = entry
        refusal.status = 403
        await server.audit.record(refusal)
        return forbidden(context, needs: role)
    }

    func forbidden(_ context: APIRequestContext, needs role: OperatorRole) -> Response {
        let principal = context.principal
        return HTML.page(
            "Not allowed",
            body:
                "<p class=\"notice error\">This needs the \(role.rawValue) role; \(HTML.escape(principal?.name ?? "you"))"
                + " \(principal.map { "is \($0.role.rawValue)" } ?? "are not signed in").</p>",
            principal: principal, csrf: context.csrfToken, status: .forbidden)
    }

    static func principal(_ context: APIRequestContext) throws -> Principal {
        guard let principal = context.principal else { throw OTAServiceError.unauthorized("not signed in") }
        return principal
    }
}

/// Requires a live session: without one, a page request is sent to the login page (and comes back after it).
struct ConsoleSessionMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let sessions: ConsoleSessions

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let cookie = request.cookies[ConsoleSessions.cookieName]?.value
        guard let cookie, let (principal, session) = try await sessions.resume(cookie) else {
            let back = request.method == .get ? "?next=" + HTML.component(request.uri.path) : ""
            return HTML.redirect(to: "/console/login" + back)
        }
        var context = context
        context.principal = principal
        context.csrfToken = session.csrfToken
        return try await next(request, context)
    }
}
