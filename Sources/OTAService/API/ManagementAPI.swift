import Foundation
import Hummingbird
import Logging

// The management API: JSON over HTTPS under /api/v1, every failure a problem-details document. Every /api/v1 call
// needs a bearer token (an operator's API token, or the admin token) and the role AccessPolicy names; every change
// is audited (AccessMiddleware). /healthz, the OpenAPI document and the data plane's signed URLs (/data) are open;
// /metrics takes the metrics token. Routes are thin: they decode, call the registry, updates, engine or operator
// directory, and encode; rules live in those types.

public struct ManagementAPI: Sendable {
    let server: OTAServer
    let token: TokenFile
    let logger: Logger

    public init(server: OTAServer, token: TokenFile, logger: Logger = Logger(label: "swiftota.api")) {
        self.server = server
        self.token = token
        self.logger = logger
    }

    public func router() -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        // Outermost, so that it times and labels the answer a client got, problem documents included.
        router.add(middleware: APIMetricsMiddleware(metrics: server.metrics))
        router.add(middleware: ProblemMiddleware(logger: logger))
        let server = server
        router.get("healthz") { _, _ in
            // A load balancer's health check: an instance that cannot reach the database answers 503.
            let reachable = (try? await server.store.read { _ in true }) ?? false
            var response = try APIBody.json(
                HealthView(
                    status: reachable ? "ok" : "degraded", mqttPort: server.mqttPort ?? 0,
                    connectedDevices: server.mqtt.connectedClientCount, database: reachable ? "ok" : "unavailable",
                    scheduler: server.leadership.isLeading ? "leader" : "standby"))
            if !reachable { response.status = .serviceUnavailable }
            return response
        }
        router.get("api/v1/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        addDataPlaneRoutes(to: router)
        Console(server: server, logger: logger).addRoutes(to: router)
        addMetricsRoute(to: router)
        let api = router.group("api/v1").add(
            middleware: AccessMiddleware(
                adminToken: token, directory: server.operators, audit: server.audit, logger: logger))
        api.get("status") { _, _ in
            try APIBody.json(
                ServiceStatusView(
                    fileStore: server.files.store.summary, fileStoreReads: server.files.storeReads,
                    dataURLBase: server.dataURLs.baseURL, dataURLExpirySeconds: server.dataURLs.expirySeconds,
                    database: server.configuration.database.map(String.init(describing:)) ?? "sqlite",
                    databaseTransactions: server.store.databaseTransactions,
                    databaseStatements: server.store.databaseStatements, reportCommits: server.store.reportCommits,
                    protection: server.protectionCounts))
        }
        addRegistryRoutes(to: api)
        addFileRoutes(to: api)
        addUpdateRoutes(to: api)
        addOperatorRoutes(to: api)
        return router
    }
}

extension RequestContext {
    /// A path parameter, percent-decoded (`x%3Ay` names thing `x:y`).
    func name(_ parameter: String) throws -> String {
        let raw = try parameters.require(parameter)
        guard let decoded = raw.percentDecoded else {
            throw ProblemDetails(
                status: .badRequest, kind: "invalid-request", detail: "'\(raw)' is not valid percent-encoding")
        }
        return decoded
    }
}

extension Request {
    func query(_ name: String) -> String? {
        uri.queryParameters[Substring(name)].map(String.init)
    }
}
