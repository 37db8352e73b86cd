import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import OTAService
import TestSupport
import Testing

// The console's defences, tried as an attacker would, with raw HTTPS requests (no browser to be lenient): no
// session → the login page; a forged, missing or replayed CSRF token → 403 and nothing changed; a viewer's session
// posting an operator's form → 403 and an audit entry; wrong passwords throttled; a logged-out cookie dead; no
// redirect off the site; and pages whose Content-Security-Policy needs no inline script or style.
@Suite(.serialized) struct ConsoleSecurityTests {
    /// A browser without a cookie jar: every cookie and form field is the test's to give.
    final class Browser: Sendable {
        let base: String
        let client: HTTPClient

        init(_ service: ServiceHarness) throws {
            base = "https://localhost:\(service.server.apiPort ?? 0)"
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(service.server.pki.caCertificatePath))
            var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
            configuration.redirectConfiguration = .disallow
            client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        }

        struct Page {
            let status: Int
            let headers: HTTPHeaders
            let text: String
            var location: String? { headers.first(name: "Location") }
            /// `name=value` of each Set-Cookie, by name.
            var cookies: [String: String] {
                Dictionary(
                    headers["Set-Cookie"].compactMap { line -> (String, String)? in
                        let pair = line.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
                        return pair.count == 2 ? (String(pair[0]), String(pair[1])) : nil
                    }, uniquingKeysWith: { $1 })
            }
            func hidden(_ name: String) -> String? {
                guard let range = text.range(of: "name=\"\(name)\" value=\"") else { return nil }
                return String(text[range.upperBound...].prefix { $0 != "\"" })
            }
        }

        func get(_ path: String, cookie: String? = nil) async throws -> Page {
            try await send(HTTPClientRequest(url: base + path), cookie: cookie)
        }

        func post(_ path: String, form: [String: String], cookie: String?) async throws -> Page {
            var request = HTTPClientRequest(url: base + path)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            let body = form.map {
                "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
            }
            request.body = .bytes(ByteBuffer(string: body.joined(separator: "&")))
            return try await send(request, cookie: cookie)
        }

        private func send(_ request: HTTPClientRequest, cookie: String?) async throws -> Page {
            var request = request
            if let cookie { request.headers.add(name: "Cookie", value: cookie) }
            let response = try await client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 4 << 20)
            return Page(
                status: Int(response.status.code), headers: response.headers, text: String(buffer: body))
        }

        /// Signs in; returns the session's cookie header and the CSRF token its pages carry.
        func signIn(_ name: String, _ password: String) async throws -> (cookie: String, csrf: String) {
            let form = try await get("/console/login")
            let login = try #require(form.cookies["ota_login"])
            let answer = try await post(
                "/console/login",
                form: ["name": name, "password": password, "login": try #require(form.hidden("login"))],
                cookie: "ota_login=\(login)")
            #expect(answer.status == 303, "\(answer.text)")
            let session = try #require(answer.cookies["ota_session"])
            let cookie = "ota_session=\(session)"
            let page = try await get("/console/updates", cookie: cookie)
            return (cookie, try #require(page.hidden("csrf")))
        }

        func shutdown() async { try? await client.shutdown() }
    }

    static let password = "a long enough passphrase"

    static func setUp() async throws -> (ServiceHarness, Browser) {
        let service = try await ServiceHarness()
        _ = try await service.server.operators.create(name: "olga", role: .operator, password: password)
        _ = try await service.server.operators.create(name: "vic", role: .viewer, password: password)
        _ = try await service.server.registry.createThing("dev-1", attributes: [:])
        return (service, try Browser(service))
    }

    static func updateForm(_ csrf: String?, file: String) -> [String: String] {
        var form = ["id": "console-u", "things": "dev-1", "file": file, "sign": "yes", "profile": "demo"]
        if let csrf { form["csrf"] = csrf }
        return form
    }

    @Test func withoutASessionEveryPageLeadsToTheLoginPageAndOnlyBackIntoTheConsole() async throws {
        let (service, browser) = try await Self.setUp()
        defer {
            Task {
                await browser.shutdown(); await service.shutdown()
            }
        }
        for path in ["/console/updates", "/console/fleet", "/console/audit", "/console/updates/new"] {
            let page = try await browser.get(path)
            #expect(page.status == 303 && page.location?.hasPrefix("/console/login") == true, "\(path)")
        }
        #expect(
            try await browser.get("/console/fleet", cookie: "ota_session=" + String(repeating: "ab", count: 32)).status
                == 303)
        let posted = try await browser.post("/console/updates", form: ["id": "x"], cookie: nil)
        #expect(posted.status == 303)
        let form = try await browser.get("/console/login")
        let answer = try await browser.post(
            "/console/login",
            form: [
                "name": "olga", "password": Self.password, "login": try #require(form.hidden("login")),
                "next": "//evil.example/steal",
            ],
            cookie: "ota_login=\(try #require(form.cookies["ota_login"]))")
        #expect(answer.location == "/console/updates", "never a redirect off the console")
        let cookieLine = try #require(answer.headers["Set-Cookie"].first { $0.hasPrefix("ota_session=") })
        for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] { #expect(cookieLine.contains(flag)) }
    }

    @Test func forgedMissingOrReplayedCSRFTokensAreRefusedAndChangeNothing() async throws {
        let (service, browser) = try await Self.setUp()
        defer {
            Task {
                await browser.shutdown(); await service.shutdown()
            }
        }
        let (file, _) = try await service.uploadFirmware(version: "2.0.0", payloadSize: 5_000)
        let first = try await browser.signIn("olga", Self.password)
        let second = try await browser.signIn("olga", Self.password)
        #expect(first.csrf != second.csrf)
        for csrf in [nil, "", String(repeating: "0", count: 64), second.csrf] {
            let answer = try await browser.post(
                "/console/updates", form: Self.updateForm(csrf, file: file.id), cookie: first.cookie)
            #expect(answer.status == 403, "csrf \(csrf ?? "absent"): \(answer.status)")
        }
        // Signed out: the old session and its token are dead together.
        #expect(
            try await browser.post("/console/logout", form: ["csrf": second.csrf], cookie: second.cookie).status == 303)
        #expect(try await browser.get("/console/updates", cookie: second.cookie).status == 303)
        #expect(
            try await browser.post(
                "/console/updates", form: Self.updateForm(second.csrf, file: file.id), cookie: second.cookie
            )
            .location?.hasPrefix("/console/login") == true)
        #expect(try await service.server.store.read { try $0.updates() }.isEmpty)

        let accepted = try await browser.post(
            "/console/updates", form: Self.updateForm(first.csrf, file: file.id), cookie: first.cookie)
        #expect(accepted.status == 303 && accepted.location == "/console/updates/console-u", "\(accepted.text)")
        #expect(try await service.server.store.read { try $0.update(id: "console-u") } != nil)
    }

    @Test func aMalformedUpdateFormIsAnsweredWithItsReasonAndCreatesNothing() async throws {
        let (service, browser) = try await Self.setUp()
        defer {
            Task {
                await browser.shutdown(); await service.shutdown()
            }
        }
        let (file, _) = try await service.uploadFirmware(version: "2.0.0", payloadSize: 5_000)
        let operatorSession = try await browser.signIn("olga", Self.password)
        let broken: [(String, String, String)] = [
            ("abort", "NOPE:10:2", "abort rule"), ("exponential", "fast", "exponential rollout"),
            ("maxPerMinute", "many", "whole number"), ("maxPerMinute", "5000", "1–1000"),
            ("sign", "no", "signature"), ("id", "bad id!", "update id"), ("things", "", "at least one target"),
            ("file", "0000", "file"),
        ]
        for (field, value, reason) in broken {
            var form = Self.updateForm(operatorSession.csrf, file: file.id)
            form[field] = value
            let answer = try await browser.post("/console/updates", form: form, cookie: operatorSession.cookie)
            #expect((400..<500).contains(answer.status), "\(field)=\(value): \(answer.status)")
            #expect(answer.text.contains(reason), "\(field)=\(value) says why: \(answer.text.suffix(300))")
        }
        #expect(try await service.server.store.read { try $0.updates() }.isEmpty)
        let trail = try await service.server.store.read { try $0.auditEntries(after: 0, limit: 100) }
        #expect(trail.filter { $0.action == "POST /console/updates" }.allSatisfy { (400..<500).contains($0.status) })
    }

    @Test func aViewersSessionCannotPostAnOperatorsFormAndTheRefusalIsAudited() async throws {
        let (service, browser) = try await Self.setUp()
        defer {
            Task {
                await browser.shutdown(); await service.shutdown()
            }
        }
        let (file, _) = try await service.uploadFirmware(version: "2.0.0", payloadSize: 5_000)
        let viewer = try await browser.signIn("vic", Self.password)
        #expect(try await browser.get("/console/updates/new", cookie: viewer.cookie).status == 403)
        let list = try await browser.get("/console/updates", cookie: viewer.cookie)
        #expect(list.status == 200 && !list.text.contains("/console/updates/new"), "no create button for a viewer")
        let answer = try await browser.post(
            "/console/updates", form: Self.updateForm(viewer.csrf, file: file.id), cookie: viewer.cookie)
        #expect(answer.status == 403)
        #expect(try await service.server.store.read { try $0.updates() }.isEmpty)
        let trail = try await service.server.store.read { try $0.auditEntries(after: 0, limit: 100) }
        let refusal = try #require(trail.last { $0.actor == "vic" && $0.action == "POST /console/updates" })
        #expect(refusal.status == 403 && refusal.role == "viewer" && refusal.target == "update console-u")
        #expect(try await browser.get("/console/audit", cookie: viewer.cookie).status == 403)
    }

    @Test func wrongPasswordsAreThrottledAndDisabledAccountsLoseTheirSessions() async throws {
        let (service, browser) = try await Self.setUp()
        defer {
            Task {
                await browser.shutdown(); await service.shutdown()
            }
        }
        // A new password ends the sessions opened with the old one.
        let old = try await browser.signIn("olga", Self.password)
        let changed = "another passphrase"
        _ = try await service.server.operators.change("olga", role: nil, disabled: nil, password: changed)
        #expect(try await browser.get("/console/updates", cookie: old.cookie).status == 303)
        let session = try await browser.signIn("olga", changed)
        func attempt(_ password: String) async throws -> Int {
            let form = try await browser.get("/console/login")
            return try await browser.post(
                "/console/login",
                form: ["name": "vic", "password": password, "login": try #require(form.hidden("login"))],
                cookie: "ota_login=\(try #require(form.cookies["ota_login"]))"
            ).status
        }
        for _ in 0..<5 { #expect(try await attempt("wrong password!") == 401) }
        #expect(try await attempt(Self.password) == 429, "throttled even with the right password")
        let forged = try await browser.get("/console/login")
        let noToken = try await browser.post(
            "/console/login", form: ["name": "olga", "password": Self.password],
            cookie: "ota_login=\(try #require(forged.cookies["ota_login"]))")
        #expect(noToken.status == 403, "a login form without its cookie's token")

        _ = try await service.server.operators.change("olga", role: nil, disabled: true, password: nil)
        #expect(try await browser.get("/console/updates", cookie: session.cookie).status == 303)
        _ = try await service.server.operators.change("olga", role: nil, disabled: false, password: nil)
        #expect(try await browser.get("/console/updates", cookie: session.cookie).status == 303, "not revived")
    }

    @Test func everyPageSendsTheSecurityHeadersAndNeedsNoInlineScriptOrStyle() async throws {
        let (service, browser) = try await Self.setUp()
        defer {
            Task {
                await browser.shutdown(); await service.shutdown()
            }
        }
        let (file, _) = try await service.uploadFirmware(version: "2.0.0", payloadSize: 5_000)
        _ = try await service.createUpdate("u1", file: file, things: ["dev-1"])
        let admin = try await service.server.operators.create(name: "ada", role: .admin, password: Self.password)
        #expect(admin.role == .admin)
        let session = try await browser.signIn("ada", Self.password)
        let paths = [
            "/console/login", "/console/updates", "/console/updates/new", "/console/updates/u1",
            "/console/updates/u1/cancel", "/console/fleet", "/console/things/dev-1", "/console/groups",
            "/console/files", "/console/audit",
        ]
        for path in paths {
            let page = try await browser.get(path, cookie: session.cookie)
            #expect(page.status == 200, "\(path): \(page.status)")
            let policy = page.headers.first(name: "Content-Security-Policy") ?? ""
            #expect(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"), "\(path)")
            #expect(!policy.contains("unsafe-inline"))
            #expect(page.headers.first(name: "X-Frame-Options") == "DENY")
            #expect(page.headers.first(name: "X-Content-Type-Options") == "nosniff")
            let html = page.text.lowercased()
            #expect(!html.contains("<script>") && !html.contains(" style=") && !html.contains("<style"), "\(path)")
            #expect(html.range(of: #"\son[a-z]+="#, options: .regularExpression) == nil, "no inline handlers: \(path)")
        }
        let events = try await browser.get("/console/updates/nope/events", cookie: session.cookie)
        #expect(events.status == 404)
        for path in ["/console/fleet?page=9223372036854775807", "/console/groups?page=-3", "/console/fleet?page=x"] {
            #expect(try await browser.get(path, cookie: session.cookie).status == 200, "\(path)")
        }
    }
}
