import Hummingbird

// Which role each management API call needs, in one table. Reads need a viewer; changes to the fleet, files and
// updates an operator; accounts, CAs, signing profiles and the audit trail an admin. A change this table does not
// know needs an admin: a route added later is closed until someone opens it here.

enum AccessPolicy {
    enum Requirement: Equatable {
        case role(OperatorRole)
        /// The account named by the route's parameter, or an admin (an account's own tokens).
        case selfOrAdmin(parameter: String)
    }

    /// Route prefixes whose changes an operator may make.
    private static let operatorChanges = [
        "/api/v1/things", "/api/v1/groups", "/api/v1/certificates/", "/api/v1/files", "/api/v1/updates",
        "/api/v1/jobs",
    ]

    static func requirement(method: HTTPRequest.Method, route: String) -> Requirement {
        if route.hasPrefix("/api/v1/users/{name}/tokens") { return .selfOrAdmin(parameter: "name") }
        if route == "/api/v1/me" { return .role(.viewer) }
        if route.hasPrefix("/api/v1/users") || route.hasPrefix("/api/v1/audit") { return .role(.admin) }
        if method == .get || method == .head { return .role(.viewer) }
        if operatorChanges.contains(where: { route.hasPrefix($0) }) { return .role(.operator) }
        return .role(.admin)
    }

    static func allows(_ principal: Principal, _ requirement: Requirement, parameter: (String) -> String?) -> Bool {
        switch requirement {
        case .role(let role): return principal.may(role)
        case .selfOrAdmin(let name):
            return principal.may(.admin)
                || (principal.credential != .adminTokenFile && parameter(name) == principal.name)
        }
    }
}
