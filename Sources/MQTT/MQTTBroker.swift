// Sessions, subscriptions, retained messages and in-flight QoS state, shared by all connections of a server.
// One lock guards it; packets are written to channels after the lock is released.
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// What the broker needs from a live connection: a way to send it packets and to close it.
protocol MQTTConnectionEndpoint: AnyObject, Sendable {
    func send(_ packets: [MQTTPacket])
    func close(reason: String)
}

final class MQTTBroker: @unchecked Sendable {
    struct Session {
        var persistent: Bool
        var subscriptions: [String: QoS] = [:]
        var connection: (any MQTTConnectionEndpoint)?
        /// QoS 1/2 messages for an offline persistent session, oldest first.
        var queue: [PublishPacket] = []
        /// Sent, waiting for PUBACK (QoS 1) or PUBREC (QoS 2), with a sequence number that orders resends.
        /// (A dictionary keyed by packet id keeps every acknowledgement O(1) however many are in flight.)
        var inflight: [UInt16: (sequence: UInt64, message: PublishPacket)] = [:]
        var sequence: UInt64 = 0
        /// QoS 2 messages acknowledged with PUBREC, waiting for PUBCOMP after our PUBREL.
        var awaitingCompletion: Set<UInt16> = []
        /// Incoming QoS 2 packet ids between PUBREC and PUBREL: a resent PUBLISH with one of them is not delivered again.
        var receivedQoS2: Set<UInt16> = []
        var lastPacketID: UInt16 = 0
        /// Its connection fell a whole queue behind and is being closed: what arrives meanwhile is dropped.
        var overflowed = false

        /// Messages between sending and their final acknowledgement: each holds a packet id.
        var unacknowledged: Int { inflight.count + awaitingCompletion.count }

        /// The next free packet id. Callers keep `unacknowledged` below `maximumInflightMessages` (far below the
        /// 65,535 ids), so the scan ends within that many steps; ids are handed out in turn, so it is one step
        /// unless a client acknowledges out of order. (Unbounded, a client that never acknowledged made this
        /// loop forever once every id was taken — holding the broker's lock.)
        mutating func nextPacketID() -> UInt16 {
            repeat {
                lastPacketID = lastPacketID == UInt16.max ? 1 : lastPacketID + 1
            } while inflight[lastPacketID] != nil || awaitingCompletion.contains(lastPacketID)
            return lastPacketID
        }

        /// Gives a QoS 1/2 message a packet id and records it in flight; returns what to send.
        mutating func track(_ message: PublishPacket) -> PublishPacket {
            var copy = message
            copy.packetID = nextPacketID()
            sequence += 1
            inflight[copy.packetID!] = (sequence, copy)
            return copy
        }
    }

    private let lock = NIOLock()
    private var sessions: [String: Session] = [:]
    /// Exact-topic subscriptions by topic (most device subscriptions), wildcard ones scanned.
    private var exactSubscribers: [String: Set<String>] = [:]
    private var wildcardSubscribers: [String: Set<String>] = [:]
    private var retained = RetainedStore()
    /// CONNECTs that took a session over from a live connection (a reconnect over a half-open link, or a clone).
    private var takeovers = 0
    /// Connections whose queue overflowed while the lock was held; closed once it is released.
    private var overflowing: [any MQTTConnectionEndpoint] = []
    /// Sessions ended because they fell a whole queue behind.
    private var overflows = 0
    let maximumQueuedMessages: Int
    /// QoS 1/2 messages sent to a session and not yet acknowledged; more wait in its queue (MQTT 5's receive
    /// maximum, applied by the server to every client).
    let maximumInflightMessages: Int
    let logger: Logger

    init(
        maximumQueuedMessages: Int, maximumInflightMessages: Int, retainedLimits: RetainedStore.Limits = .init(),
        logger: Logger
    ) {
        self.maximumQueuedMessages = maximumQueuedMessages
        self.maximumInflightMessages = min(max(1, maximumInflightMessages), Int(UInt16.max) - 1)
        retained = RetainedStore(limits: retainedLimits)
        self.logger = logger
    }

    // MARK: Sessions

    /// Attaches a connection; returns whether a session was present and the connection it replaces (takeover).
    func attach(
        clientID: String, cleanSession: Bool, connection: any MQTTConnectionEndpoint
    ) -> (sessionPresent: Bool, replaced: (any MQTTConnectionEndpoint)?, resend: [MQTTPacket]) {
        lock.withLock {
            let previous = sessions[clientID]
            if cleanSession, previous != nil { removeSubscriptions(of: clientID) }
            var session = cleanSession || previous == nil ? Session(persistent: !cleanSession) : previous!
            session.persistent = !cleanSession
            session.overflowed = false
            session.connection = connection
            // Resume: unacknowledged messages again with DUP, PUBRELs again, then what queued while offline.
            var resend: [MQTTPacket] = session.inflight.values.sorted { $0.sequence < $1.sequence }.map { entry in
                var copy = entry.message
                copy.duplicate = true
                return .publish(copy)
            }
            resend += session.awaitingCompletion.sorted().map { .pubrel(packetID: $0) }
            resend += releaseQueued(&session)
            sessions[clientID] = session
            if previous?.connection != nil { takeovers += 1 }
            return (previous != nil && !cleanSession, previous?.connection, resend)
        }
    }

    /// Detaches `connection` if it is still the session's (false after a takeover: the session is another
    /// connection's now); a clean session is then forgotten.
    @discardableResult
    func detach(clientID: String, connection: any MQTTConnectionEndpoint) -> Bool {
        lock.withLock {
            guard let session = sessions[clientID], session.connection === connection else { return false }
            if session.persistent {
                sessions[clientID]?.connection = nil
            } else {
                removeSubscriptions(of: clientID)
                sessions[clientID] = nil
            }
            return true
        }
    }

    /// The subscription filters of a client's session (empty when it has none).
    func subscriptions(of clientID: String) -> Set<String> {
        lock.withLock { Set(sessions[clientID]?.subscriptions.keys.map { $0 } ?? []) }
    }

    var takeoverCount: Int { lock.withLock { takeovers } }

    var connectedCount: Int { lock.withLock { sessions.values.filter { $0.connection != nil }.count } }

    // MARK: Subscriptions

    /// Adds subscriptions and returns the retained messages they match, ready to send.
    func subscribe(clientID: String, _ subscriptions: [Subscription]) -> [MQTTPacket] {
        let packets = lock.withLock { () -> [MQTTPacket] in
            guard sessions[clientID] != nil else { return [] }
            var out: [MQTTPacket] = []
            for subscription in subscriptions {
                sessions[clientID]!.subscriptions[subscription.filter] = subscription.qos
                if isWildcard(subscription.filter) {
                    wildcardSubscribers[subscription.filter, default: []].insert(clientID)
                } else {
                    exactSubscribers[subscription.filter, default: []].insert(clientID)
                }
                for message in retained.messages where Topic.matches(filter: subscription.filter, topic: message.topic)
                {
                    var copy = message
                    copy.qos = min(message.qos, subscription.qos)
                    copy.retain = true
                    copy.duplicate = false
                    if let packet = prepare(copy, for: clientID) { out.append(packet) }
                }
            }
            return out
        }
        closeOverflowing()
        return packets
    }

    func unsubscribe(clientID: String, _ filters: [String]) {
        lock.withLock {
            for filter in filters {
                sessions[clientID]?.subscriptions[filter] = nil
                removeSubscriber(clientID, from: filter)
            }
        }
    }

    private func removeSubscriptions(of clientID: String) {
        guard let filters = sessions[clientID]?.subscriptions.keys else { return }
        for filter in filters { removeSubscriber(clientID, from: filter) }
    }

    private func removeSubscriber(_ clientID: String, from filter: String) {
        exactSubscribers[filter]?.remove(clientID)
        wildcardSubscribers[filter]?.remove(clientID)
        if exactSubscribers[filter]?.isEmpty == true { exactSubscribers[filter] = nil }
        if wildcardSubscribers[filter]?.isEmpty == true { wildcardSubscribers[filter] = nil }
    }

    private func isWildcard(_ filter: String) -> Bool {
        filter.utf8.contains(UInt8(ascii: "+")) || filter.utf8.contains(UInt8(ascii: "#"))
    }

    // MARK: Routing

    /// Delivers `message` to every matching subscriber (and stores or clears it when retained; `publisher` is the
    /// client that sent it, nil for the service's own messages).
    func route(_ message: PublishPacket, from publisher: String? = nil) {
        var deliveries: [(any MQTTConnectionEndpoint, MQTTPacket)] = []
        var refusedRetain = false
        lock.withLock {
            if message.retain {
                refusedRetain = !retained.store(message, from: publisher)
            }
            var granted: [String: QoS] = [:]
            for clientID in exactSubscribers[message.topic] ?? [] {
                if let qos = sessions[clientID]?.subscriptions[message.topic] { granted[clientID] = qos }
            }
            for (filter, clients) in wildcardSubscribers where Topic.matches(filter: filter, topic: message.topic) {
                for clientID in clients {
                    guard let qos = sessions[clientID]?.subscriptions[filter] else { continue }
                    granted[clientID] = max(granted[clientID] ?? .atMostOnce, qos)
                }
            }
            for (clientID, qos) in granted {
                var copy = message
                copy.qos = min(message.qos, qos)
                // §3.3.1.3: a message sent because of a live subscription goes out with retain 0.
                copy.retain = false
                copy.duplicate = false
                if let packet = prepare(copy, for: clientID), let connection = sessions[clientID]?.connection {
                    deliveries.append((connection, packet))
                }
            }
        }
        closeOverflowing()
        if refusedRetain {
            logger.warning(
                "retained message not kept: the retained-message limits are reached",
                metadata: ["client": "\(publisher ?? "service")", "topic": "\(message.topic)"])
        }
        for (connection, packet) in deliveries { connection.send([packet]) }
    }

    /// Retained messages refused because a limit was reached.
    var retainedRefusedCount: Int { lock.withLock { retained.refused } }

    /// Ends the connections that fell a whole queue behind (outside the lock: closing hops to their event loops).
    private func closeOverflowing() {
        let closing = lock.withLock {
            defer { overflowing.removeAll() }
            overflows += overflowing.count
            return overflowing
        }
        for connection in closing {
            logger.warning("a client fell \(maximumQueuedMessages) messages behind; closing its connection")
            connection.close(reason: "message queue full: the client does not acknowledge what it is sent")
        }
    }

    var overflowCount: Int { lock.withLock { overflows } }

    /// Connections closed because their client stopped reading.
    private var slowConsumers = 0
    func countSlowConsumer() { lock.withLock { slowConsumers += 1 } }
    var slowConsumerCount: Int { lock.withLock { slowConsumers } }

    /// Pauses of a client that sent faster than its inbound rate.
    private var paced = 0
    func countPaced() { lock.withLock { paced += 1 } }
    var pacedCount: Int { lock.withLock { paced } }

    /// Assigns a packet id and records QoS 1/2 messages in flight; queues them for offline persistent sessions and
    /// past the in-flight limit. Returns the packet to send now, or nil. Called with the lock held; the session is
    /// changed in place (a copy of it, in-flight table included, per message made a flood quadratic).
    private func prepare(_ message: PublishPacket, for clientID: String) -> MQTTPacket? {
        guard sessions[clientID] != nil else { return nil }
        return prepare(message, in: &sessions[clientID]!, clientID: clientID)
    }

    private func prepare(_ message: PublishPacket, in session: inout Session, clientID: String) -> MQTTPacket? {
        guard message.qos != .atMostOnce else {
            var copy = message
            copy.packetID = nil
            return session.connection == nil ? nil : .publish(copy)
        }
        if session.connection != nil, session.queue.isEmpty, session.unacknowledged < maximumInflightMessages {
            return .publish(session.track(message))
        }
        if session.overflowed { return nil }
        if session.queue.count >= maximumQueuedMessages {
            if let connection = session.connection {
                session.overflowed = true
                // A connected client this far behind does not read or acknowledge: end it rather than hold
                // its messages without bound (a persistent session keeps its queue for the next connection).
                overflowing.append(connection)
                return nil
            }
            session.queue.removeFirst()
            logger.warning("queue full, dropped oldest message", metadata: ["client": "\(clientID)"])
        }
        session.queue.append(message)
        return nil
    }

    /// Moves queued messages in flight while the session has room; returns them to send. Lock held.
    private func releaseQueued(_ session: inout Session) -> [MQTTPacket] {
        var out: [MQTTPacket] = []
        while session.connection != nil, !session.queue.isEmpty, session.unacknowledged < maximumInflightMessages {
            out.append(.publish(session.track(session.queue.removeFirst())))
        }
        return out
    }

    // MARK: Acknowledgements

    /// PUBACK for a QoS 1 message we sent; returns queued messages that now fit in flight.
    func acknowledge(clientID: String, puback id: UInt16) -> [MQTTPacket] {
        lock.withLock {
            guard sessions[clientID]?.inflight.removeValue(forKey: id) != nil else { return [] }
            return releaseQueued(&sessions[clientID]!)
        }
    }

    /// PUBREC for a QoS 2 message we sent: it is received; answer PUBREL.
    func acknowledge(clientID: String, pubrec id: UInt16) {
        lock.withLock {
            guard sessions[clientID]?.inflight.removeValue(forKey: id) != nil else { return }
            sessions[clientID]?.awaitingCompletion.insert(id)
        }
    }

    /// PUBCOMP ends a QoS 2 message we sent; returns queued messages that now fit in flight.
    func acknowledge(clientID: String, pubcomp id: UInt16) -> [MQTTPacket] {
        lock.withLock {
            guard sessions[clientID]?.awaitingCompletion.remove(id) != nil else { return [] }
            return releaseQueued(&sessions[clientID]!)
        }
    }

    /// Records an incoming QoS 2 PUBLISH; false when it is a resend that was already delivered.
    func receiveQoS2(clientID: String, id: UInt16) -> Bool {
        lock.withLock { sessions[clientID]?.receivedQoS2.insert(id).inserted ?? false }
    }

    func release(clientID: String, id: UInt16) {
        _ = lock.withLock { sessions[clientID]?.receivedQoS2.remove(id) }
    }

    func connection(for clientID: String) -> (any MQTTConnectionEndpoint)? {
        lock.withLock { sessions[clientID]?.connection }
    }
}
