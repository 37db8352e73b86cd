// Who is calling the management API: an operator account (through one of its API tokens or a console session),
// or the admin token file, which stands for the first admin and has no account.

public struct Principal: Sendable, Equatable {
    public enum Credential: String, Sendable {
        case adminTokenFile = "admin-token"
        case apiToken = "api-token"
        case session
    }

    /// The account's name; `admin-token` for the token file.
    public var name: String
    public var role: OperatorRole
    public var credential: Credential

    public static let adminTokenFile = Principal(name: "admin-token", role: .admin, credential: .adminTokenFile)

    public func may(_ needed: OperatorRole) -> Bool { role >= needed }
}
