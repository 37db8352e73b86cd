import Foundation
import Logging
import PostgresNIO
import Synchronization

// Cluster events over PostgreSQL's LISTEN/NOTIFY: no broker besides the database the instances share. Each instance
// keeps one connection listening on the channel and sends with pg_notify from its pool. A notification carries
// {"from": instance id, "event": …}; an instance ignores its own. NOTIFY payloads are limited to 8000 bytes, so a
// long list of things goes out in several notifications.
//
// A notification sent while an instance's listening connection is down is lost to it (PostgreSQL keeps none): the
// instance logs the gap, reconnects within a second and tells its caller, which reloads what it keeps (the gateway
// trust). A device connected there may miss a notify-next and picks its job up at its next request.

public final class PostgresClusterBus: ClusterBus {
    static let channel = "swiftota_cluster"
    /// Payload bytes per notification, below PostgreSQL's 8000.
    static let payloadLimit = 7_000

    let instanceID = UUID().uuidString
    private let store: PostgresStore
    private let logger: Logger
    private let listener = Mutex<Task<Void, Never>?>(nil)
    private let listening = Mutex<PostgresConnection?>(nil)

    struct Envelope: Codable {
        var from: String
        var event: ClusterEvent
    }

    public init(store: PostgresStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func announce(_ event: ClusterEvent) async {
        do {
            let payloads = try Self.payloads(for: event, from: instanceID)
            _ = try await store.transaction(.autocommit) { transaction in
                for payload in payloads {
                    try transaction.run("SELECT pg_notify($1, $2)", [.text(Self.channel), .text(payload)])
                }
            }
        } catch {
            logger.error("cluster event not sent", metadata: ["event": "\(event)", "error": "\(error)"])
        }
    }

    /// The notifications that carry `event`: a list of things is cut so that each stays under the limit.
    static func payloads(for event: ClusterEvent, from instance: String) throws -> [String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func encode(_ event: ClusterEvent) throws -> String {
            String(decoding: try encoder.encode(Envelope(from: instance, event: event)), as: UTF8.self)
        }
        guard case .nextChanged(let changes) = event else { return [try encode(event)] }
        var payloads: [String] = []
        var batch: [ClusterEvent.NextExecution] = []
        var batchBytes = 0
        for change in changes {
            let bytes = try encoder.encode(change).count + 1
            if batchBytes + bytes + 200 > payloadLimit, !batch.isEmpty {
                payloads.append(try encode(.nextChanged(batch)))
                batch = []
                batchBytes = 0
            }
            batch.append(change)
            batchBytes += bytes
        }
        if !batch.isEmpty { payloads.append(try encode(.nextChanged(batch))) }
        return payloads
    }

    public func start(
        events handler: @escaping @Sendable (ClusterEvent) async -> Void, missed: @escaping @Sendable () async -> Void
    ) async throws {
        // The first connection must work: an instance that cannot listen would serve its devices stale.
        let first = try await store.pool.connectDedicated()
        let task = Task { [self] in
            var connection: PostgresConnection? = first
            var gap = false
            while !Task.isCancelled {
                do {
                    let current: PostgresConnection
                    if let connection {
                        current = connection
                    } else {
                        current = try await store.pool.connectDedicated()
                    }
                    connection = current
                    listening.withLock { $0 = current }
                    try await current.listen(on: Self.channel) { notifications in
                        if gap {
                            gap = false
                            logger.warning("cluster events: listening again; catching up on what was missed")
                            await missed()
                        }
                        for try await notification in notifications {
                            guard let event = decode(notification.payload) else { continue }
                            await handler(event)
                        }
                    }
                } catch {
                    if !gap && !Task.isCancelled {
                        logger.error(
                            "cluster events: the listening connection failed",
                            metadata: ["error": "\(PostgresErrors.translate(error, context: "listening"))"])
                    }
                }
                gap = true
                listening.withLock { $0 = nil }
                try? await connection?.close()
                connection = nil
                if Task.isCancelled { break }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        listener.withLock { $0 = task }
    }

    public func stop() async {
        let task = listener.withLock { task in
            defer { task = nil }
            return task
        }
        task?.cancel()
        // Closing the connection ends the notification sequence the task waits in.
        try? await listening.withLock({ $0 })?.close()
        await task?.value
    }

    /// The event of another instance's notification; nil for this instance's own or an unreadable one.
    private func decode(_ payload: String) -> ClusterEvent? {
        guard let envelope = try? JSONDecoder().decode(Envelope.self, from: Data(payload.utf8)) else {
            logger.warning(
                "cluster events: unreadable notification ignored", metadata: ["bytes": "\(payload.utf8.count)"])
            return nil
        }
        return envelope.from == instanceID ? nil : envelope.event
    }
}
