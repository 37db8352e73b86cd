import Foundation
import Logging
import TestSupport
import Testing

@testable import OTAService

// PostgreSQL stopped under a running instance, then started again: the instance says so (healthz 503, API 503
// with a clear problem), keeps its device connections, never crashes, and resumes by itself. That test runs its own
// cluster (scripts/postgres-cluster), since it stops it. And the server ending the instance's connections while it
// stays up: the instance replaces them by itself.
@Suite(.serialized) struct DatabaseOutageTests {
    static let script = ExternalTools.packageRoot.appendingPathComponent("scripts/postgres-cluster").path

    @Test func anOutageIsReportedAndTheInstanceResumesByItself() async throws {
        let cluster = "/tmp/ota-outage-\(UUID().uuidString.prefix(8))"
        let started = try await ExternalTools.check(Self.script, ["start", cluster])
        do {
            let database = try PostgresDatabaseURL(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            try await Self.outage(of: cluster, at: database)
        } catch {
            _ = try? await ExternalTools.run(Self.script, ["stop", cluster])
            throw error
        }
        _ = try? await ExternalTools.run(Self.script, ["stop", cluster])
    }

    /// The server ends every connection of the instance's database while the server itself stays up (an
    /// administrator's pg_terminate_backend, a pooler or a failover doing the same): requests may fail while the
    /// instance learns its connections are gone, never hang on one, and it opens new ones by itself.
    @Test func connectionsTheServerEndsAreReplacedByThemselves() async throws {
        let database = try await PostgresTestDatabase.create()
        let service = try await ServiceHarness { $0.database = database }
        defer { Task { await service.shutdown() } }
        let api = try APICaller(service, token: try ManagementAPITests.token(service))
        defer { Task { await api.shutdown() } }
        let device = try await service.device("steady")
        #expect(try await api.call(.POST, "/api/v1/things", json: #"{"name":"before"}"#).status == 201)

        let admin = try PostgresStore(url: database, maximumConnections: 1, logger: Logger(label: "test"))
        // The pids first, then each terminated by name: a filter and pg_terminate_backend in one WHERE clause may be
        // evaluated in either order, which would end other databases' connections (other tests').
        let terminated = try await admin.transaction(.autocommit) { transaction in
            let others = try transaction.strings(
                """
                SELECT pid::text FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                """)
            for pid in others {
                try transaction.run("SELECT pg_terminate_backend($1::int4)", [.text(pid)])
            }
            return others.count
        }
        await admin.close()
        #expect(terminated >= 2, "the pool's connections and the cluster bus's")

        #expect(
            await eventually(within: 20) {
                (try? await api.call(.POST, "/api/v1/things", json: #"{"name":"after"}"#).status) == 201
            })
        #expect(try await service.server.store.read { try $0.thing(named: "after") } != nil)
        try await device.publish("$aws/things/steady/jobs/get", json: #"{"clientToken":"t"}"#)
        let pending = try await device.takeText("$aws/things/steady/jobs/get/accepted")
        #expect(pending.contains(#""clientToken":"t""#), "the device is served again: \(pending)")
        await device.close()
    }

    static func outage(of cluster: String, at database: PostgresDatabaseURL) async throws {
        let service = try await ServiceHarness { $0.database = database }
        defer { Task { await service.shutdown() } }
        let api = try APICaller(service, token: try ManagementAPITests.token(service))
        defer { Task { await api.shutdown() } }
        let device = try await service.device("steady")
        #expect(try await api.call(.GET, "/healthz").object()["database"] as? String == "ok")
        #expect(
            await eventually { (try? await api.call(.GET, "/healthz").object()["scheduler"] as? String) == "leader" })

        try await ExternalTools.check(Self.script, ["pause", cluster])
        let health = try await api.call(.GET, "/healthz")
        #expect(health.status == 503)
        #expect(try health.object()["database"] as? String == "unavailable")
        let refused = try await api.call(.POST, "/api/v1/things", json: #"{"name":"during"}"#)
        #expect(refused.status == 503, "\(refused.text)")
        #expect(refused.text.contains("database-unavailable"), "\(refused.text)")
        #expect(device.client.isConnected, "devices stay connected through the outage")

        try await ExternalTools.check(Self.script, ["resume", cluster])
        #expect(await eventually(within: 15) { (try? await api.call(.GET, "/healthz").status) == 200 })
        let created = try await api.call(.POST, "/api/v1/things", json: #"{"name":"after"}"#)
        #expect(created.status == 201, "\(created.text)")
        #expect(try await service.server.store.read { try $0.thing(named: "during") } == nil, "nothing half-made")
        try await device.publish("$aws/things/steady/jobs/get", json: #"{"clientToken":"t"}"#)
        let pending = try await device.takeText("$aws/things/steady/jobs/get/accepted")
        #expect(pending.contains(#""clientToken":"t""#), "the device is served again: \(pending)")
        await device.close()
    }
}
