// The people who run the service: operator accounts with a role, their API tokens, and the audit trail of what
// they changed. Times are seconds since the epoch. Secrets are never stored: a password as its scrypt hash
// (PasswordHash), a token as its SHA-256 digest.

/// What an account may do; each role includes the ones below it.
public enum OperatorRole: String, Sendable, Codable, CaseIterable, Comparable {
    /// Reads the fleet, files, updates and jobs.
    case viewer
    /// Also uploads files, creates and cancels updates, and manages things, groups and device certificates.
    case `operator`
    /// Also manages accounts, CAs, signing profiles and keys, and reads the audit trail.
    case admin

    private var rank: Int {
        switch self {
        case .viewer: return 0
        case .operator: return 1
        case .admin: return 2
        }
    }

    public static func < (lhs: OperatorRole, rhs: OperatorRole) -> Bool { lhs.rank < rhs.rank }
}

public struct OperatorAccount: Sendable, Equatable, Codable {
    public var name: String
    public var role: OperatorRole
    /// `PasswordHash`'s encoding; nil: the account signs in with API tokens only.
    public var passwordHash: String?
    /// A disabled account's tokens and sessions stop working at once; the account and its audit entries stay.
    public var disabled: Bool
    public var createdAt: Int64

    public init(name: String, role: OperatorRole, passwordHash: String? = nil, disabled: Bool = false, createdAt: Int64)
    {
        self.name = name
        self.role = role
        self.passwordHash = passwordHash
        self.disabled = disabled
        self.createdAt = createdAt
    }
}

/// An account's API token: the token itself is shown once, when it is made; only its digest is kept.
public struct APITokenRecord: Sendable, Equatable, Codable {
    /// Public and short: names the token in lists and in `revoke`.
    public var id: String
    public var operatorName: String
    /// SHA-256 of the token, hex.
    public var digest: String
    public var label: String
    public var createdAt: Int64
    public var revokedAt: Int64?

    public init(
        id: String, operatorName: String, digest: String, label: String, createdAt: Int64, revokedAt: Int64? = nil
    ) {
        self.id = id
        self.operatorName = operatorName
        self.digest = digest
        self.label = label
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// A signed-in console session. The cookie holds a random value; the store keeps its SHA-256 only, so a stolen
/// database opens no session. `csrfToken` must come back with every form the session posts.
public struct ConsoleSession: Sendable, Equatable, Codable {
    public var digest: String
    public var operatorName: String
    public var csrfToken: String
    public var createdAt: Int64
    /// Moved forward as the session is used (at most once a minute); the session ends `idleTimeout` after it.
    public var lastSeenAt: Int64

    public init(digest: String, operatorName: String, csrfToken: String, createdAt: Int64, lastSeenAt: Int64) {
        self.digest = digest
        self.operatorName = operatorName
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
    }
}

/// One line of the append-only audit trail: who did what to which resource, from where, with what result, and the
/// resource before and after (JSON, secrets left out).
public struct AuditEntry: Sendable, Equatable, Codable {
    /// Assigned by the store, increasing.
    public var sequence: Int64?
    public var at: Int64
    public var actor: String
    public var role: String
    /// The client's address.
    public var source: String
    /// Method and route pattern: `PATCH /api/v1/things/{name}`.
    public var action: String
    /// `thing dev-1`, when the route names one resource.
    public var target: String?
    /// The HTTP status answered; 403 for a refusal.
    public var status: Int
    public var before: String?
    public var after: String?

    public init(
        sequence: Int64? = nil, at: Int64, actor: String, role: String, source: String, action: String,
        target: String? = nil, status: Int, before: String? = nil, after: String? = nil
    ) {
        self.sequence = sequence
        self.at = at
        self.actor = actor
        self.role = role
        self.source = source
        self.action = action
        self.target = target
        self.status = status
        self.before = before
        self.after = after
    }
}
