import Foundation

// The OpenAPI 3.1 description of the management API, served at /api/v1/openapi.json. It is built from the route
// table below, kept beside the routes; ManagementAPITests checks that the routes it calls are described.

enum OpenAPIDocument {
    struct Route {
        let method: String
        let path: String
        let tag: String
        let summary: String
        var body: [String: Any]? = nil
        var status = "200"
        var query: [String] = []
        var isPublic = false
        var rawBody = false
    }

    static var string: [String: Any] { ["type": "string"] }
    static var integer: [String: Any] { ["type": "integer"] }
    static var number: [String: Any] { ["type": "number"] }
    static var boolean: [String: Any] { ["type": "boolean"] }
    static var strings: [String: Any] { ["type": "array", "items": string] }
    static var stringMap: [String: Any] { ["type": "object", "additionalProperties": string] }

    static func object(_ properties: [String: Any], required: [String] = []) -> [String: Any] {
        ["type": "object", "properties": properties, "required": required]
    }

    static func enumeration(_ values: [String]) -> [String: Any] { ["type": "string", "enum": values] }

    static var force: [String: Any] { object(["force": boolean]) }
    static let roles = OperatorRole.allCases.map(\.rawValue)
    static var createUpdate: [String: Any] {
        object(
            [
                "id": string, "description": string, "fileID": string, "fileName": string, "fileType": integer,
                "signingProfile": string, "signature": string, "things": strings, "groups": strings,
                "targetSelection": enumeration(["SNAPSHOT", "CONTINUOUS"]),
                "rollout": object([
                    "maximumPerMinute": integer,
                    "exponentialRate": object(
                        [
                            "baseRatePerMinute": integer, "incrementFactor": number, "numberOfNotifiedThings": integer,
                            "numberOfSucceededThings": integer,
                        ], required: ["baseRatePerMinute", "incrementFactor"]),
                ]),
                "abortCriteria": [
                    "type": "array",
                    "items": object(
                        [
                            "failureType": enumeration(["FAILED", "REJECTED", "TIMED_OUT", "ALL"]),
                            "thresholdPercentage": number, "minNumberOfExecutedThings": integer,
                        ], required: ["failureType", "thresholdPercentage", "minNumberOfExecutedThings"]),
                ],
                "inProgressTimeoutMinutes": integer,
                "protocols": ["type": "array", "items": enumeration(["MQTT", "HTTP"])],
            ], required: ["id", "fileID", "signingProfile"])
    }

    static var routes: [Route] {
        [
            Route(
                method: "get", path: "/healthz", tag: "service", summary: "Liveness and gateway status", isPublic: true),
            Route(
                method: "get", path: "/api/v1/openapi.json", tag: "service", summary: "This document", isPublic: true),
            Route(
                method: "get", path: "/api/v1/status", tag: "service",
                summary: "File store, its reads since start, data URL base and expiry"),
            Route(
                method: "get", path: "/data/{id}", tag: "data",
                summary: "A file for a device, by the signed URL its job document carried (Range → 206; expired → 403)",
                query: ["thing", "expires", "signature"], isPublic: true),
            Route(method: "get", path: "/api/v1/things", tag: "things", summary: "List things"),
            Route(
                method: "post", path: "/api/v1/things", tag: "things", summary: "Create a thing",
                body: object(["name": string, "attributes": stringMap], required: ["name"]), status: "201"),
            Route(
                method: "get", path: "/api/v1/things/{name}", tag: "things",
                summary: "A thing, its groups, certificates"),
            Route(
                method: "patch", path: "/api/v1/things/{name}", tag: "things",
                summary: "Replace a thing's attributes (dynamic groups follow)",
                body: object(["attributes": stringMap], required: ["attributes"])),
            Route(
                method: "post", path: "/api/v1/things/{name}/certificates", tag: "certificates",
                summary: "Issue a device certificate from a CSR, or with a generated key returned once",
                body: object(["csr": string]), status: "201"),
            Route(
                method: "post", path: "/api/v1/things/{name}/certificates/register", tag: "certificates",
                summary: "Register a certificate the device brought (any CA or self-signed; any CN) for a thing",
                body: object(["certificatePEM": string], required: ["certificatePEM"]), status: "201"),
            Route(
                method: "post", path: "/api/v1/certificates/{fingerprint}/revoke", tag: "certificates",
                summary: "Revoke a certificate: it can no longer connect"),
            Route(method: "get", path: "/api/v1/ca-certificates", tag: "certificates", summary: "List registered CAs"),
            Route(
                method: "post", path: "/api/v1/ca-certificates", tag: "certificates",
                summary: "Register a CA: its device certificates connect once registered to a thing",
                body: object(["certificatePEM": string], required: ["certificatePEM"]), status: "201"),
            Route(
                method: "post", path: "/api/v1/ca-certificates/{fingerprint}/deactivate", tag: "certificates",
                summary: "Deactivate a CA: devices whose certificates chain to it are refused"),
            Route(
                method: "post", path: "/api/v1/ca-certificates/{fingerprint}/activate", tag: "certificates",
                summary: "Activate a deactivated CA again"),
            Route(method: "get", path: "/api/v1/groups", tag: "groups", summary: "List groups"),
            Route(
                method: "post", path: "/api/v1/groups", tag: "groups",
                summary: "Create a static group, or a dynamic one with a query (attr=value AND ...)",
                body: object(["name": string, "description": string, "query": string], required: ["name"]),
                status: "201"),
            Route(method: "get", path: "/api/v1/groups/{name}", tag: "groups", summary: "A group and its members"),
            Route(
                method: "post", path: "/api/v1/groups/{name}/members", tag: "groups", summary: "Add a thing to a group",
                body: object(["thing": string], required: ["thing"]), status: "204"),
            Route(
                method: "delete", path: "/api/v1/groups/{name}/members/{thing}", tag: "groups",
                summary: "Remove a thing from a static group", status: "204"),
            Route(method: "get", path: "/api/v1/files", tag: "files", summary: "List stored files"),
            Route(
                method: "post", path: "/api/v1/files", tag: "files",
                summary: "Upload a file (the body); app images are validated", status: "201", query: ["name", "kind"],
                rawBody: true),
            Route(
                method: "post", path: "/api/v1/files/import", tag: "files",
                summary:
                    "Take in an object of the store's S3 bucket (s3://bucket/key): read once, kept content-addressed",
                body: object(
                    ["url": string, "name": string, "kind": enumeration(["app", "data"])], required: ["url"]),
                status: "201"),
            Route(method: "get", path: "/api/v1/files/{id}", tag: "files", summary: "A stored file (id = SHA-256 hex)"),
            Route(method: "get", path: "/api/v1/signing-profiles", tag: "signing", summary: "List signing profiles"),
            Route(
                method: "post", path: "/api/v1/signing-profiles", tag: "signing",
                summary: "Create a signing profile: certificate (+ key file to sign for you) or a generated key",
                body: object(
                    [
                        "name": string, "certificatePEM": string, "keyPath": string, "generateKey": boolean,
                        "certificatePathOnDevice": string,
                    ], required: ["name"]), status: "201"),
            Route(method: "get", path: "/api/v1/updates", tag: "updates", summary: "List OTA updates"),
            Route(
                method: "post", path: "/api/v1/updates", tag: "updates",
                summary: "Create an OTA update: sign or verify, then job AFR_OTA-<id> and its stream",
                body: createUpdate, status: "201"),
            Route(method: "get", path: "/api/v1/updates/{id}", tag: "updates", summary: "An update, its job, progress"),
            Route(
                method: "post", path: "/api/v1/updates/{id}/cancel", tag: "updates",
                summary: "Cancel an update's job (force: running executions too)", body: force),
            Route(method: "get", path: "/api/v1/jobs", tag: "jobs", summary: "List jobs with progress"),
            Route(method: "get", path: "/api/v1/jobs/{id}", tag: "jobs", summary: "A job with progress"),
            Route(method: "get", path: "/api/v1/jobs/{id}/executions", tag: "jobs", summary: "A job's executions"),
            Route(method: "post", path: "/api/v1/jobs/{id}/cancel", tag: "jobs", summary: "Cancel a job", body: force),
            Route(
                method: "get", path: "/metrics", tag: "service",
                summary: "Prometheus text exposition (the metrics token; docs/monitoring.md)"),
            Route(
                method: "get", path: "/api/v1/me", tag: "accounts", summary: "Who the token stands for, and its role"),
            Route(method: "get", path: "/api/v1/users", tag: "accounts", summary: "List operator accounts (admin)"),
            Route(
                method: "post", path: "/api/v1/users", tag: "accounts", summary: "Create an account (admin)",
                body: object(
                    ["name": string, "role": enumeration(roles), "password": string], required: ["name", "role"]),
                status: "201"),
            Route(method: "get", path: "/api/v1/users/{name}", tag: "accounts", summary: "An account (admin)"),
            Route(
                method: "patch", path: "/api/v1/users/{name}", tag: "accounts",
                summary: "Change role, disabled, or password (empty: tokens only) (admin)",
                body: object(["role": enumeration(roles), "disabled": boolean, "password": string])),
            Route(
                method: "get", path: "/api/v1/users/{name}/tokens", tag: "accounts",
                summary: "An account's API tokens, never the tokens themselves (the account or an admin)"),
            Route(
                method: "post", path: "/api/v1/users/{name}/tokens", tag: "accounts",
                summary: "Issue an API token, shown once in the answer (the account or an admin)",
                body: object(["label": string]), status: "201"),
            Route(
                method: "post", path: "/api/v1/users/{name}/tokens/{id}/revoke", tag: "accounts",
                summary: "Revoke a token (the account or an admin)"),
            Route(
                method: "get", path: "/api/v1/audit", tag: "accounts",
                summary: "The audit trail, oldest first from `after` (admin)", query: ["after", "limit"]),
        ]
    }

    static func operation(_ route: Route) -> [String: Any] {
        let problem: [String: Any] = [
            "description": "problem details (RFC 9457)",
            "content": ["application/problem+json": ["schema": ["$ref": "#/components/schemas/Problem"]]],
        ]
        var success: [String: Any] = ["description": "success"]
        if route.status != "204" { success["content"] = ["application/json": ["schema": ["type": "object"]]] }
        var operation: [String: Any] = [
            "summary": route.summary, "tags": [route.tag], "responses": [route.status: success, "default": problem],
        ]
        let pathParameters = route.path.split(separator: "/").filter { $0.hasPrefix("{") }.map {
            ["name": String($0.dropFirst().dropLast()), "in": "path", "required": true, "schema": string]
        }
        let queryParameters = route.query.map {
            ["name": $0, "in": "query", "required": $0 == "name", "schema": string]
        }
        if !(pathParameters + queryParameters).isEmpty { operation["parameters"] = pathParameters + queryParameters }
        if let body = route.body {
            operation["requestBody"] = ["required": true, "content": ["application/json": ["schema": body]]]
        } else if route.rawBody {
            operation["requestBody"] = [
                "required": true,
                "content": ["application/octet-stream": ["schema": ["type": "string", "format": "binary"]]],
            ]
        }
        if route.isPublic { operation["security"] = [[String: Any]]() }
        return operation
    }

    static let json: String = {
        var paths: [String: [String: Any]] = [:]
        for route in routes { paths[route.path, default: [:]][route.method] = operation(route) }
        let document: [String: Any] = [
            "openapi": "3.1.0",
            "info": ["title": "SwiftOTA management API", "version": "1"],
            "security": [["bearer": [String]()]],
            "components": [
                "securitySchemes": [
                    "bearer": [
                        "type": "http", "scheme": "bearer",
                        "description":
                            "an account's API token (`ota users token create`), or the admin token in DATA/admin-token;"
                            + " each call needs the role its description names (viewer reads, operator changes the"
                            + " fleet, files and updates, admin the rest)",
                    ]
                ],
                "schemas": [
                    "Problem": object(
                        ["type": string, "title": string, "status": integer, "detail": string],
                        required: ["type", "title", "status", "detail"])
                ],
            ],
            "paths": paths,
        ]
        let data = try? JSONSerialization.data(
            withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data ?? Data(), as: UTF8.self)
    }()
}
