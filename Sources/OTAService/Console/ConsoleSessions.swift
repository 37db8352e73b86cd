import Foundation

// Console sign-in sessions, kept in the store so that any instance serves any session. The cookie's value is 32
// random bytes; the store holds its SHA-256. A session ends after `idleTimeout` without use, `lifetime` after it
// began, at logout, and at once when its account is disabled; the account's current role applies to every request.

struct ConsoleSessions: Sendable {
    let store: any OTAStore
    let now: @Sendable () -> Int64

    static let cookieName = "ota_session"
    static let idleTimeout: Int64 = 30 * 60
    static let lifetime: Int64 = 12 * 60 * 60

    /// A new session for a principal that just proved who it is; returns the cookie's value.
    func open(for principal: Principal) async throws -> String {
        let cookie = Secrets.randomHex(bytes: 32)
        let time = now()
        let session = ConsoleSession(
            digest: Secrets.digest(cookie), operatorName: principal.name, csrfToken: Secrets.randomHex(bytes: 32),
            createdAt: time,
            lastSeenAt: time)
        try await store.write { writer in
            // Expired sessions go as new ones come: no sweeper needed.
            try writer.deleteConsoleSessions(digest: nil, operatorName: nil, idleBefore: time - Self.idleTimeout)
            try writer.save(session)
        }
        return cookie
    }

    /// The session a cookie names, with its account's principal as it is now; nil when it is unknown, expired, or
    /// its account is disabled or gone.
    func resume(_ cookie: String) async throws -> (principal: Principal, session: ConsoleSession)? {
        guard cookie.utf8.count == 64 else { return nil }
        let digest = Secrets.digest(cookie)
        let time = now()
        let found = try await store.read { reader -> (ConsoleSession, OperatorAccount)? in
            guard let session = try reader.consoleSession(digest: digest),
                let account = try reader.operatorAccount(named: session.operatorName)
            else { return nil }
            return (session, account)
        }
        guard let (session, account) = found, !account.disabled, time - session.lastSeenAt < Self.idleTimeout,
            time - session.createdAt < Self.lifetime
        else { return nil }
        if time - session.lastSeenAt >= 60 {
            let touched = ConsoleSession(
                digest: session.digest, operatorName: session.operatorName, csrfToken: session.csrfToken,
                createdAt: session.createdAt, lastSeenAt: time)
            try await store.write { try $0.save(touched) }
        }
        return (Principal(name: account.name, role: account.role, credential: .session), session)
    }

    func close(_ cookie: String) async throws {
        let digest = Secrets.digest(cookie)
        let time = now()
        try await store.write {
            try $0.deleteConsoleSessions(digest: digest, operatorName: nil, idleBefore: time - Self.idleTimeout)
        }
    }

}
