import Foundation
import Synchronization

// Operator accounts and their API tokens: creating, changing and disabling accounts, issuing and revoking tokens,
// and turning a presented token or password into a Principal. Every check reads the store, so a revoked token, a
// disabled account or a changed role takes effect on the next request, on every instance.

public struct OperatorDirectory: Sendable {
    let store: any OTAStore
    let now: @Sendable () -> Int64
    /// The scrypt cost of passwords set from now on (each hash keeps its own).
    let hashing: PasswordHash.Parameters
    private let decoy: DecoyHash

    /// A token is `ota_<id>_<secret>`: the id (public) names it in lists, the 32-byte secret makes it unguessable.
    static let tokenPrefix = "ota_"

    public init(
        store: any OTAStore, now: @escaping @Sendable () -> Int64, hashing: PasswordHash.Parameters = .standard
    ) {
        self.store = store
        self.now = now
        self.hashing = hashing
        decoy = DecoyHash(hashing)
    }

    // MARK: Accounts

    public func create(name: String, role: OperatorRole, password: String?) async throws -> OperatorAccount {
        guard Self.isAccountName(name) else {
            throw OTAServiceError.invalidRequest("account name '\(name)' must be 1–64 of a-z A-Z 0-9 . _ -")
        }
        guard name != Principal.adminTokenFile.name else {
            throw OTAServiceError.invalidRequest("'\(name)' names the admin token file in the audit trail")
        }
        let hash = try password.map(hash)
        let account = OperatorAccount(name: name, role: role, passwordHash: hash, createdAt: now())
        return try await store.write { writer in
            guard try writer.operatorAccount(named: name) == nil else {
                throw OTAServiceError.conflict("account \(name) exists")
            }
            try writer.save(account)
            return account
        }
    }

    /// Changes what is given: the role, disabled or not, the password (an empty one removes it: tokens only).
    public func change(_ name: String, role: OperatorRole?, disabled: Bool?, password: String?) async throws
        -> OperatorAccount
    {
        let hash: String?? = try password.map { $0.isEmpty ? nil : try self.hash($0) }
        return try await store.write { writer in
            guard var account = try writer.operatorAccount(named: name) else {
                throw OTAServiceError.notFound("account \(name)")
            }
            if let role { account.role = role }
            if let disabled { account.disabled = disabled }
            if let hash { account.passwordHash = hash }
            try writer.save(account)
            // A new password or a disabled account ends every console session of it (a role change applies to
            // them at their next request anyway).
            if hash != nil || disabled == true {
                try writer.deleteConsoleSessions(digest: nil, operatorName: name, idleBefore: 0)
            }
            return account
        }
    }

    // MARK: Tokens

    /// A new token for `name`: the token itself is in the answer and nowhere else.
    public func issueToken(for name: String, label: String) async throws -> (token: String, record: APITokenRecord) {
        guard (0...128).contains(label.utf8.count), label.unicodeScalars.allSatisfy(Names.isPrintable) else {
            throw OTAServiceError.invalidRequest("a token label is at most 128 printable characters")
        }
        // 64 bits: two tokens never share an id (a save is an upsert).
        let id = Secrets.randomHex(bytes: 8)
        let secret = Secrets.randomHex(bytes: 32)
        let token = Self.tokenPrefix + id + "_" + secret
        let record = APITokenRecord(
            id: id, operatorName: name, digest: Secrets.digest(token), label: label, createdAt: now())
        try await store.write { writer in
            guard let account = try writer.operatorAccount(named: name) else {
                throw OTAServiceError.notFound("account \(name)")
            }
            guard !account.disabled else { throw OTAServiceError.conflict("account \(name) is disabled") }
            try writer.save(record)
        }
        return (token, record)
    }

    public func revokeToken(_ id: String, of name: String) async throws -> APITokenRecord {
        let time = now()
        return try await store.write { writer in
            guard var record = try writer.apiTokens(of: name).first(where: { $0.id == id }) else {
                throw OTAServiceError.notFound("token \(id) of \(name)")
            }
            if record.revokedAt == nil { record.revokedAt = time }
            try writer.save(record)
            return record
        }
    }

    // MARK: Authentication

    /// The principal a presented API token stands for; nil for an unknown or revoked token or a disabled account.
    public func principal(forToken token: Substring) async throws -> Principal? {
        guard token.hasPrefix(Self.tokenPrefix), token.utf8.count <= 128 else { return nil }
        let digest = Secrets.digest(String(token))
        return try await store.read { reader -> Principal? in
            guard let record = try reader.apiToken(digest: digest), record.revokedAt == nil,
                let account = try reader.operatorAccount(named: record.operatorName), !account.disabled
            else { return nil }
            return Principal(name: account.name, role: account.role, credential: .apiToken)
        }
    }

    /// The account a name and password sign in to; nil when either is wrong, the account has no password, or it is
    /// disabled. An unknown name costs a hash too, so timing does not tell which names exist.
    public func principal(name: String, password: String) async throws -> Principal? {
        let account = try await store.read { try $0.operatorAccount(named: name) }
        guard let account, let hash = account.passwordHash, !account.disabled else {
            _ = PasswordHash.verify(password, against: decoy.value)
            return nil
        }
        guard PasswordHash.verify(password, against: hash) else { return nil }
        return Principal(name: account.name, role: account.role, credential: .session)
    }

    // MARK: Helpers

    static func isAccountName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x2E || byte == 0x5F || byte == 0x2D
            }
    }

    private func hash(_ password: String) throws -> String {
        guard password.count >= PasswordHash.minimumLength, password.utf8.count <= PasswordHash.maximumLength else {
            throw OTAServiceError.invalidRequest(
                "a password has at least \(PasswordHash.minimumLength) characters and at most "
                    + "\(PasswordHash.maximumLength) bytes")
        }
        return try PasswordHash.make(password, parameters: hashing)
    }
}

/// A valid hash of no one's password at the directory's cost, verified against when a sign-in names no account
/// (so that it takes as long as a wrong password). Made at the first such sign-in, not at every start.
private final class DecoyHash: Sendable {
    private let parameters: PasswordHash.Parameters
    private let made = Mutex<String?>(nil)

    init(_ parameters: PasswordHash.Parameters) { self.parameters = parameters }

    var value: String {
        made.withLock { made in
            if let made { return made }
            let hash = (try? PasswordHash.make(UUID().uuidString, parameters: parameters)) ?? ""
            made = hash
            return hash
        }
    }
}
