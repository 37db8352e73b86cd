import Hummingbird

// /api/v1/me, /users (accounts and their API tokens) and /audit.

struct CreateAccountBody: Decodable {
    var name: String
    var role: OperatorRole
    /// Absent: the account uses API tokens only.
    var password: String?
}

struct ChangeAccountBody: Decodable {
    var role: OperatorRole?
    var disabled: Bool?
    /// Empty: remove the password (API tokens only).
    var password: String?
}

struct CreateTokenBody: Decodable {
    var label: String?
}

/// An account as the API shows it: never its password hash.
public struct AccountView: Codable, Sendable, Equatable {
    public var name: String
    public var role: OperatorRole
    public var disabled: Bool
    public var hasPassword: Bool
    public var createdAt: Int64

    init(_ account: OperatorAccount) {
        name = account.name
        role = account.role
        disabled = account.disabled
        hasPassword = account.passwordHash != nil
        createdAt = account.createdAt
    }
}

/// A token as lists show it: never the token or its digest.
public struct TokenView: Codable, Sendable, Equatable {
    public var id: String
    public var label: String
    public var createdAt: Int64
    public var revokedAt: Int64?

    init(_ record: APITokenRecord) {
        id = record.id
        label = record.label
        createdAt = record.createdAt
        revokedAt = record.revokedAt
    }
}

/// A token just made: the one time the token itself is shown.
public struct IssuedTokenView: Codable, Sendable {
    public var token: String
    public var id: String
    public var label: String
    public var account: String
}

struct PrincipalView: Encodable {
    var name: String
    var role: OperatorRole
    var credential: String
}

extension ManagementAPI {
    func addOperatorRoutes(to api: RouterGroup<APIRequestContext>) {
        let store = server.store
        let operators = server.operators
        api.get("me") { _, context in
            guard let principal = context.principal else { throw OTAServiceError.unauthorized("no principal") }
            return try APIBody.json(
                PrincipalView(name: principal.name, role: principal.role, credential: principal.credential.rawValue))
        }
        api.get("users") { _, _ in
            try APIBody.json(try await store.read { try $0.operatorAccounts() }.map(AccountView.init))
        }
        api.post("users") { request, _ in
            let body = try await APIBody.decode(CreateAccountBody.self, from: request)
            let account = try await operators.create(name: body.name, role: body.role, password: body.password)
            return try APIBody.json(AccountView(account), status: .created)
        }
        api.get("users/:name") { _, context in
            let name = try context.name("name")
            guard let account = try await store.read({ try $0.operatorAccount(named: name) }) else {
                throw OTAServiceError.notFound("account \(name)")
            }
            return try APIBody.json(AccountView(account))
        }
        api.patch("users/:name") { request, context in
            let body = try await APIBody.decode(ChangeAccountBody.self, from: request)
            let account = try await operators.change(
                try context.name("name"), role: body.role, disabled: body.disabled, password: body.password)
            return try APIBody.json(AccountView(account))
        }
        api.get("users/:name/tokens") { _, context in
            let name = try context.name("name")
            return try APIBody.json(try await store.read { try $0.apiTokens(of: name) }.map(TokenView.init))
        }
        api.post("users/:name/tokens") { request, context in
            let name = try context.name("name")
            let body = try await APIBody.decodeIfPresent(CreateTokenBody.self, from: request)
            let (token, record) = try await operators.issueToken(for: name, label: body?.label ?? "")
            return try APIBody.json(
                IssuedTokenView(token: token, id: record.id, label: record.label, account: name), status: .created)
        }
        api.post("users/:name/tokens/:id/revoke") { _, context in
            let record = try await operators.revokeToken(try context.name("id"), of: try context.name("name"))
            return try APIBody.json(TokenView(record))
        }
        api.get("audit") { request, _ in
            let after = Int64(request.query("after") ?? "0") ?? -1
            let limit = Int(request.query("limit") ?? "100") ?? 0
            guard after >= 0, (1...1000).contains(limit) else {
                throw OTAServiceError.invalidRequest("after is a sequence number ≥ 0, limit 1–1000")
            }
            return try APIBody.json(try await store.read { try $0.auditEntries(after: after, limit: limit) })
        }
    }
}
