import CoreMetrics
import OTAWire
import Synchronization

// The series that are states, set when Prometheus scrapes: connected devices, the database and scheduler, each
// active update's executions by status, and the counts the service's limits keep (MQTTServer, APIShedTally)
// mirrored into counters. Gauges of an update that is no longer active are removed: a finished rollout does not
// stay in every scrape forever. With several instances the rollout series are the database's, the same from each
// instance (aggregate them with max, docs/monitoring.md); the others are each instance's own.

final class MetricsSampler: Sendable {
    private let metrics: ServiceMetrics
    /// The last value mirrored into each counter, by series key.
    private let mirrored = Mutex<[String: Int]>([:])
    /// Updates whose gauges the last scrape set.
    private let activeUpdates = Mutex<Set<String>>([])

    init(metrics: ServiceMetrics) {
        self.metrics = metrics
    }

    func sample(_ server: OTAServer) async {
        gauge("swiftota_mqtt_connected_clients").record(server.mqtt.connectedClientCount)
        gauge("swiftota_mqtt_unauthenticated_connections").record(server.mqtt.unauthenticatedConnectionCount)
        gauge("swiftota_scheduler_leader").record(server.leadership.isLeading ? 1 : 0)
        mirrorProtection(server.protectionCounts)
        mirror("swiftota_mqtt_session_takeovers_total", [], server.mqtt.takeoverCount)
        if let transactions = server.store.databaseTransactions {
            mirror("swiftota_database_transactions_total", [], transactions)
        }
        if let statements = server.store.databaseStatements {
            mirror("swiftota_database_statements_total", [], statements)
        }
        let reports = server.store.reportCommits
        mirror("swiftota_device_reports_committed_total", [], reports.reports)
        mirror("swiftota_device_report_commits_total", [], reports.batches)
        do {
            let rollouts = try await server.store.read { reader in
                try reader.activeJobs().map { job in
                    (
                        update: job.updateID, tally: try reader.executionTally(jobID: job.id, queuedAfter: 0),
                        pending: try reader.pendingTargetCount(jobID: job.id)
                    )
                }
            }
            gauge("swiftota_database_up").record(1)
            setRollouts(rollouts)
        } catch {
            // The rollout gauges keep their last values; this one says they are stale.
            gauge("swiftota_database_up").record(0)
        }
    }

    private func setRollouts(_ rollouts: [(update: String, tally: ExecutionTally, pending: Int)]) {
        gauge("swiftota_updates_active").record(rollouts.count)
        for rollout in rollouts {
            for status in JobExecutionStatus.allCases {
                gauge("swiftota_update_executions", [("update", rollout.update), ("status", status.rawValue)])
                    .record(rollout.tally.byStatus[status, default: 0])
            }
            gauge("swiftota_update_pending_targets", [("update", rollout.update)]).record(rollout.pending)
        }
        let current = Set(rollouts.map(\.update))
        let ended = activeUpdates.withLock { active in
            defer { active = current }
            return active.subtracting(current)
        }
        for update in ended {
            for status in JobExecutionStatus.allCases {
                gauge("swiftota_update_executions", [("update", update), ("status", status.rawValue)]).destroy()
            }
            gauge("swiftota_update_pending_targets", [("update", update)]).destroy()
        }
    }

    private func mirrorProtection(_ counts: ProtectionCountsView) {
        let shed: [(port: String, reason: String, count: Int)] = [
            ("mqtt", "tls_handshake_timeout", counts.mqttTLSHandshakeTimeouts),
            ("mqtt", "connect_timeout", counts.mqttConnectTimeouts),
            ("mqtt", "unauthenticated_limit", counts.mqttUnauthenticatedLimit),
            ("mqtt", "per_address_limit", counts.mqttPerAddressLimit),
            ("api", "tls_handshake_timeout", counts.apiTLSHandshakeTimeouts),
            ("api", "request_timeout", counts.apiRequestTimeouts),
        ]
        for entry in shed {
            mirror("swiftota_connections_shed_total", [("port", entry.port), ("reason", entry.reason)], entry.count)
        }
        let closed: [(reason: String, count: Int)] = [
            ("queue_overflow", counts.queueOverflows), ("slow_consumer", counts.slowConsumers),
        ]
        for entry in closed {
            mirror("swiftota_mqtt_clients_closed_total", [("reason", entry.reason)], entry.count)
        }
        mirror("swiftota_mqtt_retained_refused_total", [], counts.retainedRefused)
        mirror("swiftota_mqtt_clients_paced_total", [], counts.pacedClients)
    }

    private func gauge(_ label: String, _ dimensions: [(String, String)] = []) -> Gauge {
        Gauge(label: label, dimensions: dimensions, factory: metrics.factory)
    }

    /// Adds to a counter what a monotonic count grew by since the last scrape (a counter only goes up).
    private func mirror(_ label: String, _ dimensions: [(String, String)], _ value: Int) {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        let growth = mirrored.withLock { last in
            defer { last[key] = max(value, last[key] ?? 0) }
            return value - (last[key] ?? 0)
        }
        let counter = Counter(label: label, dimensions: dimensions, factory: metrics.factory)
        if growth > 0 { counter.increment(by: growth) }
    }
}
