import Foundation
import Logging
import PostgresNIO
import Synchronization

// Cluster events over PostgreSQL's LISTEN/NOTIFY: no broker besides the database the instances share. Each instance
// keeps one connection listening on the channel and sends with pg_notify from its pool. A notification carries
// {"from": instance id, "event": …}; an instance ignores its own. NOTIFY payloads are limited to 8000 bytes, so a
// long list of things goes out in several notifications.
//
// Announcements that come while earlier ones are being sent wait and go out together (BatchesWhileBusy.swift),
// several pg_notify calls in one statement: a fleet's reconnects are thousands of events a minute, and each statement
// is a round trip.
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
    private let outbox: BatchesWhileBusy<Announcement>
    /// pg_notify calls in one statement at most.
    static let notificationsPerStatement = 50
    /// Announcements not sent yet, waiting or being sent (tests).
    var unsentAnnouncements: Int { outbox.unfinished }

    /// One event's notifications.
    private struct Announcement: Sendable {
        let event: ClusterEvent
        let payloads: [String]
    }

    struct Envelope: Codable {
        var from: String
        var event: ClusterEvent
    }

    public init(store: PostgresStore, logger: Logger) {
        self.store = store
        self.logger = logger
        outbox = BatchesWhileBusy { batch in await Self.send(batch, store: store, logger: logger) }
    }

    public func announce(_ event: ClusterEvent) async {
        let payloads: [String]
        do {
            payloads = try Self.payloads(for: event, from: instanceID)
        } catch {
            logger.error("cluster event not sent", metadata: ["event": "\(event)", "error": "\(error)"])
            return
        }
        // Failures are logged by `send`: an announcement is never refused.
        try? await outbox.submit(Announcement(event: event, payloads: payloads))
    }

    /// Sends a batch of announcements together; what fails is logged, and its notifications are lost.
    private static func send(_ batch: [Announcement], store: PostgresStore, logger: Logger) async {
        let payloads = batch.flatMap(\.payloads)
        do {
            // Each statement on its own (autocommit): one that fails loses its notifications, not the others'.
            let failures = try await store.transaction(.autocommit) { transaction in
                var failures: [(notifications: Int, error: any Error)] = []
                for start in stride(from: 0, to: payloads.count, by: Self.notificationsPerStatement) {
                    let chunk = payloads[start..<min(start + Self.notificationsPerStatement, payloads.count)]
                    let calls = chunk.indices.map { "pg_notify($1, $\($0 - start + 2))" }
                    do {
                        try transaction.run(
                            "SELECT " + calls.joined(separator: ", "),
                            [.text(Self.channel)] + chunk.map { .text($0) })
                    } catch {
                        failures.append((chunk.count, error))
                    }
                }
                return failures.map { "\($0.notifications) notifications: \($0.error)" }
            }
            for failure in failures { logger.error("cluster events not sent", metadata: ["error": "\(failure)"]) }
        } catch {
            logger.error(
                "cluster events not sent",
                metadata: ["events": "\(batch.map(\.event))", "error": "\(error)"])
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
        // The first connection must work: an instance that cannot listen would serve its devices stale. And start
        // returns once LISTEN is in effect, not before: what another instance announces after that reaches this one.
        let first = try await store.pool.connectDedicated()
        let firstListen = FirstListen()
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
                        firstListen.finish(nil)
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
                    firstListen.finish(error)
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
        do {
            try await firstListen.wait()
        } catch {
            await stop()
            throw PostgresErrors.translate(error, context: "listening")
        }
    }

    /// The outcome of the first LISTEN, once: `start` waits for it.
    private final class FirstListen: Sendable {
        private let state = Mutex<(outcome: Result<Void, any Error>?, waiter: CheckedContinuation<Void, any Error>?)>(
            (nil, nil))

        func finish(_ error: (any Error)?) {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard state.outcome == nil else { return nil }
                state.outcome = error.map { .failure($0) } ?? .success(())
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(with: error.map { .failure($0) } ?? .success(()))
        }

        func wait() async throws {
            try await withCheckedThrowingContinuation { continuation in
                let outcome = state.withLock { state -> Result<Void, any Error>? in
                    if state.outcome == nil { state.waiter = continuation }
                    return state.outcome
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        }
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
