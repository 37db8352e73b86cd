import Hummingbird

// /console/login and /console/logout. The login form carries a token that must match a cookie set with it (so no
// other site can sign a browser in to an account of its choosing); failed attempts are throttled per address and
// per name (LoginThrottle); a success opens a session and is audited, as is a logout.

extension Console {
    static let loginCookieName = "ota_login"

    func addLoginRoutes(to console: RouterGroup<APIRequestContext>, pages: RouterGroup<APIRequestContext>) {
        let server = server
        console.get("login") { request, _ in
            loginPage(next: Self.safeNext(request.uri.queryParameters["next"].map(String.init)), message: nil)
        }
        console.post("login") { request, context in
            let bytes = Array(try await APIBody.collect(request, upTo: 16 << 10).readableBytesView)
            let form = try FormData.urlEncoded(bytes)
            let next = Self.safeNext(form.value("next"))
            guard let expected = request.cookies[Self.loginCookieName]?.value, let presented = form.value("login"),
                Secrets.equal(expected.utf8, presented.utf8)
            else {
                return loginPage(next: next, message: "The sign-in form expired; try again.", status: .forbidden)
            }
            func wrong() -> Response {
                loginPage(next: next, message: "The name or the password is wrong.", status: .unauthorized)
            }
            // A name no account can have is wrong without a hash, and never enters the throttle's table.
            let name = form.value("name") ?? ""
            guard OperatorDirectory.isAccountName(name) else { return wrong() }
            let time = server.configuration.now()
            let throttle = server.loginThrottle
            switch throttle.admit(address: context.remoteAddress, name: name, at: time) {
            case .throttled:
                return loginPage(
                    next: next, message: "Too many failed sign-ins; wait a few minutes.", status: .tooManyRequests)
            case .busy:
                return loginPage(
                    next: next, message: "Other sign-ins are being checked; try again in a moment.",
                    status: .serviceUnavailable)
            case .granted:
                break
            }
            let principal: Principal?
            do {
                principal = try await server.operators.principal(name: name, password: form.value("password") ?? "")
            } catch {
                throttle.finished(address: context.remoteAddress, name: name, succeeded: false)
                throw error
            }
            throttle.finished(address: context.remoteAddress, name: name, succeeded: principal != nil)
            guard let principal else { return wrong() }
            let cookie = try await server.sessions.open(for: principal)
            await server.audit.record(
                server.audit.entry(
                    principal, source: context.remoteAddress, action: "POST /console/login", status: 303))
            return HTML.redirect(
                to: next,
                headers: [
                    .setCookie: Self.cookie(ConsoleSessions.cookieName, cookie, maxAge: ConsoleSessions.lifetime),
                    .setCookie: Self.cookie(Self.loginCookieName, "", maxAge: 0),
                ])
        }
        pages.post("logout") { request, context in
            _ = try await Self.form(request, context)
            if let cookie = request.cookies[ConsoleSessions.cookieName]?.value {
                try await server.sessions.close(cookie)
            }
            let principal = try Self.principal(context)
            await server.audit.record(
                server.audit.entry(
                    principal, source: context.remoteAddress, action: "POST /console/logout", status: 303))
            return HTML.redirect(
                to: "/console/login", headers: [.setCookie: Self.cookie(ConsoleSessions.cookieName, "", maxAge: 0)])
        }
    }

    private func loginPage(next: String, message: String?, status: HTTPResponse.Status = .ok) -> Response {
        let token = Secrets.randomHex(bytes: 32)
        var response = HTML.page(
            "Sign in",
            body: (message.map { "<p class=\"notice error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
                + """
                <form class="stack" method="post" action="/console/login">
                <label>Account <input name="name" autocomplete="username" required autofocus></label>
                <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
                <input type="hidden" name="login" value="\(token)">
                <input type="hidden" name="next" value="\(HTML.escape(next))">
                <button type="submit">Sign in</button>
                </form>
                <p class="muted">Accounts are made by an admin: <code>ota users create NAME --role operator --password-stdin</code>.</p>
                """, status: status)
        response.headers.append(.init(name: .setCookie, value: Self.cookie(Self.loginCookieName, token, maxAge: 3600)))
        return response
    }

    /// Only a path inside the console: never another site (`//evil.example`), never a scheme.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/console/"), !next.hasPrefix("//"), !next.contains("\\"),
            next.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return "/console/updates" }
        return next
    }

    static func cookie(_ name: String, _ value: String, maxAge: Int64) -> String {
        "\(name)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; Secure; SameSite=Strict"
    }
}
