import Foundation

// The resource a management API route changes, and how it stands: the "before" and "after" of an audit entry.
// Routes that name one resource (`/api/v1/things/{name}/…`) are read before and after the call; a route that
// creates one has no before, and its answer (secrets removed) is the after. Snapshots hold the fields an auditor
// asks about, not whole records (no PEM bodies, never a password hash).

struct AuditSubject: Sendable {
    let kind: String
    let id: String

    var label: String { "\(kind) \(id)" }

    /// Route prefixes that name one resource, and the parameter that names it.
    private static let routes: [(prefix: String, kind: String, parameter: String)] = [
        ("/api/v1/things/{name}", "thing", "name"),
        ("/api/v1/groups/{name}", "group", "name"),
        ("/api/v1/certificates/{fingerprint}", "certificate", "fingerprint"),
        ("/api/v1/ca-certificates/{fingerprint}", "ca-certificate", "fingerprint"),
        ("/api/v1/updates/{id}", "update", "id"),
        ("/api/v1/jobs/{id}", "job", "id"),
        ("/api/v1/users/{name}", "account", "name"),
    ]

    static func of(route: String, parameter: (String) -> String?) -> AuditSubject? {
        for entry in routes where route.hasPrefix(entry.prefix) {
            guard let id = parameter(entry.parameter) else { return nil }
            return AuditSubject(kind: entry.kind, id: id)
        }
        return nil
    }

    init(kind: String, id: String) {
        self.kind = kind
        // The id comes from a client's path: kept printable and short, so that an entry cannot carry terminal
        // escapes or megabytes into `ota audit`.
        let printable = Names.printable(id)
        self.id = printable.count > 200 ? String(printable.prefix(200)) + "…" : printable
    }

    /// The resource now, as JSON text; nil when it does not exist.
    func snapshot(in reader: any StoreReader) throws -> String? {
        let fields: [String: Any]?
        switch kind {
        case "thing":
            fields = try reader.thing(named: id).map { thing in
                ["name": thing.name, "attributes": thing.attributes, "groups": try reader.staticGroups(of: id)]
            }
        case "group":
            fields = try reader.group(named: id).map { group in
                [
                    "name": group.name, "description": group.description, "query": group.query ?? NSNull(),
                    "members": group.isDynamic ? [] : try reader.staticMembers(of: id),
                ]
            }
        case "certificate":
            fields = try reader.certificate(fingerprint: id).map {
                ["fingerprint": $0.fingerprint, "thing": $0.thingName, "status": $0.status.rawValue]
            }
        case "ca-certificate":
            fields = try reader.caCertificate(fingerprint: id).map {
                ["fingerprint": $0.fingerprint, "subject": $0.subject, "status": $0.status.rawValue]
            }
        case "update":
            fields = try reader.update(id: id).map { update in
                let job = try reader.job(id: update.jobID)
                return [
                    "id": update.id, "file": update.fileID, "job": update.jobID,
                    "status": job?.status.rawValue ?? NSNull(), "reason": job?.reason ?? NSNull(),
                ]
            }
        case "job":
            fields = try reader.job(id: id).map {
                ["id": $0.id, "status": $0.status.rawValue, "reason": $0.reason ?? NSNull()]
            }
        case "account":
            fields = try reader.operatorAccount(named: id).map { account in
                [
                    "name": account.name, "role": account.role.rawValue, "disabled": account.disabled,
                    "password": account.passwordHash == nil ? "none" : "set",
                    "tokens": try reader.apiTokens(of: id).map { token in
                        ["id": token.id, "label": token.label, "revoked": token.revokedAt != nil]
                    },
                ]
            }
        default:
            fields = nil
        }
        return try fields.map(Self.json)
    }

    static func json(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// Keys whose values are secrets: never written to the audit trail.
    private static let secretKeys: Set<String> = ["token", "password", "passwordHash", "privateKeyPEM", "secret"]
    /// The most of an answer kept as an "after".
    static let maximumAnswerBytes = 16 << 10

    /// An API answer as an audit "after": JSON with every secret replaced, or nil when it is not a JSON object or
    /// array, or larger than `maximumAnswerBytes`.
    static func redactedAnswer(_ bytes: [UInt8]) -> String? {
        guard bytes.count <= maximumAnswerBytes, let object = try? JSONSerialization.jsonObject(with: Data(bytes))
        else { return nil }
        return try? json(redact(object))
    }

    private static func redact(_ value: Any) -> Any {
        if let object = value as? [String: Any] {
            return object.reduce(into: [String: Any]()) { result, member in
                result[member.key] = secretKeys.contains(member.key) ? "(secret)" : redact(member.value)
            }
        }
        if let array = value as? [Any] { return array.map(redact) }
        return value
    }
}
