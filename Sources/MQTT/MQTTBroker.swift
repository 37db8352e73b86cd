// Sessions, subscriptions and retained messages, shared by all connections of a server. The broker's lock guards
// the tables that find sessions (by client id, by subscription) and the retained store, and is held only for
// lookups; each session's QoS state has its own lock (`BrokerSession`), so one client's flood or acknowledgements
// never hold up another's. Packets are written to channels after every lock is released.
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// What the broker needs from a live connection: a way to send it packets and to close it.
protocol MQTTConnectionEndpoint: AnyObject, Sendable {
    func send(_ packets: [MQTTPacket])
    func send(_ batch: PublishBatch)
    func close(reason: String)
}

final class MQTTBroker: @unchecked Sendable {
    private let lock = NIOLock()
    private var sessions: [String: BrokerSession] = [:]
    /// Subscriptions with their granted QoS: exact topics (most device subscriptions) by topic, wildcard filters by
    /// level, and each client's filters.
    private var exactSubscribers: [TopicBytes: [String: QoS]] = [:]
    private let wildcardSubscribers = SubscriptionTree()
    private var filtersByClient: [String: Set<TopicBytes>] = [:]
    private var retained = RetainedStore()
    /// CONNECTs that took a session over from a live connection (a reconnect over a half-open link, or a clone).
    private var takeovers = 0
    private let counters = NIOLockedValueBox((overflows: 0, slowConsumers: 0, paced: 0))
    let maximumQueuedMessages: Int
    /// QoS 1/2 messages sent to a session and not yet acknowledged; more wait in its queue (MQTT 5's receive
    /// maximum, applied by the server to every client).
    let maximumInflightMessages: Int
    let logger: Logger
    /// Refused retained messages, dropped queue entries and overflowing clients are a client's doing, as often as it
    /// likes: at most one line per kind every 10 s, with how many were held back (the counters have them all).
    private let clientEvents: RateLimitedLog

    init(
        maximumQueuedMessages: Int, maximumInflightMessages: Int, retainedLimits: RetainedStore.Limits = .init(),
        logger: Logger
    ) {
        self.maximumQueuedMessages = maximumQueuedMessages
        self.maximumInflightMessages = min(max(1, maximumInflightMessages), Int(UInt16.max) - 1)
        retained = RetainedStore(limits: retainedLimits)
        self.logger = logger
        clientEvents = RateLimitedLog(logger: logger, interval: .seconds(10))
    }

    // MARK: Sessions

    /// Attaches a connection; returns whether a session was present and the connection it replaces (takeover).
    func attach(
        clientID: String, cleanSession: Bool, connection: any MQTTConnectionEndpoint
    ) -> (sessionPresent: Bool, replaced: (any MQTTConnectionEndpoint)?, resend: [MQTTPacket]) {
        let (previous, session) = lock.withLock { () -> (BrokerSession?, BrokerSession) in
            let previous = sessions[clientID]
            if cleanSession, previous != nil { removeSubscriptions(of: clientID) }
            let session =
                cleanSession || previous == nil
                ? BrokerSession(
                    persistent: !cleanSession, maximumQueuedMessages: maximumQueuedMessages,
                    maximumInflightMessages: maximumInflightMessages) : previous!
            sessions[clientID] = session
            return (previous, session)
        }
        // A clean session starts anew: the connection it replaces is the old session's, which nothing reaches now.
        var replaced = previous === session ? nil : previous?.withState { $0.connection }
        let attached = session.attach(connection, persistent: !cleanSession)
        replaced = replaced ?? attached.replaced
        if replaced != nil { lock.withLock { takeovers += 1 } }
        return (previous != nil && !cleanSession, replaced, attached.resend)
    }

    /// Detaches `connection` if it is still the session's (false after a takeover: the session is another
    /// connection's now); a clean session is then forgotten.
    @discardableResult
    func detach(clientID: String, connection: any MQTTConnectionEndpoint) -> Bool {
        lock.withLock {
            guard let session = sessions[clientID] else { return false }
            let (owned, persistent) = session.withState { state -> (Bool, Bool) in
                guard state.connection === connection else { return (false, state.persistent) }
                state.connection = nil
                return (true, state.persistent)
            }
            guard owned else { return false }
            if !persistent {
                removeSubscriptions(of: clientID)
                sessions[clientID] = nil
            }
            return true
        }
    }

    /// The subscription filters of a client's session (empty when it has none).
    func subscriptions(of clientID: String) -> Set<String> {
        lock.withLock { Set((filtersByClient[clientID] ?? []).map { String($0.text) }) }
    }

    var takeoverCount: Int { lock.withLock { takeovers } }

    var connectedCount: Int {
        lock.withLock { Array(sessions.values) }.count { $0.connection != nil }
    }

    func connection(for clientID: String) -> (any MQTTConnectionEndpoint)? {
        session(clientID)?.connection
    }

    private func session(_ clientID: String) -> BrokerSession? { lock.withLock { sessions[clientID] } }

    // MARK: Subscriptions

    /// Adds subscriptions and offers the client the retained messages they match (through its outbox, so they follow
    /// the SUBACK its connection writes now).
    func subscribe(clientID: String, _ subscriptions: [Subscription]) {
        let (session, matches) = lock.withLock { () -> (BrokerSession?, [PublishPacket]) in
            guard let session = sessions[clientID] else { return (nil, []) }
            var matches: [PublishPacket] = []
            for subscription in subscriptions {
                filtersByClient[clientID, default: []].insert(TopicBytes(subscription.filter))
                if isWildcard(subscription.filter) {
                    wildcardSubscribers.insert(filter: subscription.filter, clientID: clientID, qos: subscription.qos)
                } else {
                    exactSubscribers[TopicBytes(subscription.filter), default: [:]][clientID] = subscription.qos
                }
                for message in retained.messages where Topic.matches(filter: subscription.filter, topic: message.topic)
                {
                    var copy = message
                    copy.qos = min(message.qos, subscription.qos)
                    copy.retain = true
                    copy.duplicate = false
                    matches.append(copy)
                }
            }
            return (session, matches)
        }
        guard let session else { return }
        for message in matches { offer(message, to: session, clientID: clientID) }
    }

    func unsubscribe(clientID: String, _ filters: [String]) {
        lock.withLock {
            for filter in filters {
                if let held = filtersByClient[clientID]?.remove(TopicBytes(filter)) {
                    removeSubscriber(clientID, from: held)
                }
            }
        }
    }

    /// Lock held.
    private func removeSubscriptions(of clientID: String) {
        for filter in filtersByClient.removeValue(forKey: clientID) ?? [] { removeSubscriber(clientID, from: filter) }
    }

    /// Lock held.
    private func removeSubscriber(_ clientID: String, from filter: TopicBytes) {
        if isWildcard(filter.text) {
            wildcardSubscribers.remove(filter: String(filter.text), clientID: clientID)
        } else {
            exactSubscribers[filter]?[clientID] = nil
            if exactSubscribers[filter]?.isEmpty == true { exactSubscribers[filter] = nil }
        }
    }

    private func isWildcard(_ filter: some StringProtocol) -> Bool {
        filter.utf8.contains(UInt8(ascii: "+")) || filter.utf8.contains(UInt8(ascii: "#"))
    }

    // MARK: Routing

    /// Delivers `message` to every matching subscriber (and stores or clears it when retained; `publisher` is the
    /// client that sent it, nil for the service's own messages). The broker's lock is held only to find the
    /// subscribers; each one's session is then offered the message under its own lock.
    func route(_ message: PublishPacket, from publisher: String? = nil) {
        var refusedRetain = false
        let targets = lock.withLock { () -> [(clientID: String, session: BrokerSession, qos: QoS)] in
            if message.retain {
                refusedRetain = !retained.store(message, from: publisher)
            }
            var granted: [String: QoS] = exactSubscribers[TopicBytes(message.topic)] ?? [:]
            wildcardSubscribers.collectSubscribers(of: message.topic, into: &granted)
            return granted.compactMap { clientID, qos in sessions[clientID].map { (clientID, $0, qos) } }
        }
        if refusedRetain {
            clientEvents.warning(
                "retained message not kept: the retained-message limits are reached", key: "retained refused",
                metadata: ["client": "\(publisher ?? "service")", "topic": "\(message.topic)"])
        }
        for target in targets {
            var copy = message
            copy.qos = min(message.qos, target.qos)
            // §3.3.1.3: a message sent because of a live subscription goes out with retain 0.
            copy.retain = false
            copy.duplicate = false
            offer(copy, to: target.session, clientID: target.clientID)
        }
    }

    /// Offers a message to a session (no broker lock held): handed to its connection's outbox, queued or dropped. A
    /// connected client a whole queue behind is closed: it neither reads nor acknowledges, and holding more for it is
    /// unbounded memory (a persistent session keeps its queue for the next connection).
    private func offer(_ message: PublishPacket, to session: BrokerSession, clientID: String) {
        let (offer, droppedOldest) = session.offer(message)
        if droppedOldest {
            clientEvents.warning(
                "queue full, dropped oldest message", key: "queue dropped", metadata: ["client": "\(clientID)"])
        }
        switch offer {
        case .sent, .held: return
        case .overflow(let connection):
            counters.withLockedValue { $0.overflows += 1 }
            clientEvents.warning(
                "a client fell \(maximumQueuedMessages) messages behind; closing its connection", key: "overflow",
                metadata: ["client": "\(clientID)"])
            connection.close(reason: "message queue full: the client does not acknowledge what it is sent")
        }
    }

    /// Retained messages refused because a limit was reached.
    var retainedRefusedCount: Int { lock.withLock { retained.refused } }

    /// Sessions ended because they fell a whole queue behind.
    var overflowCount: Int { counters.withLockedValue { $0.overflows } }

    /// Connections closed because their client stopped reading.
    func countSlowConsumer() { counters.withLockedValue { $0.slowConsumers += 1 } }
    var slowConsumerCount: Int { counters.withLockedValue { $0.slowConsumers } }

    /// Pauses of a client that sent faster than its inbound rate.
    func countPaced() { counters.withLockedValue { $0.paced += 1 } }
    var pacedCount: Int { counters.withLockedValue { $0.paced } }

    // MARK: Acknowledgements (each under the client's own session lock)

    /// PUBACK for a QoS 1 message we sent; queued messages that now fit in flight go to the client's outbox.
    func acknowledge(clientID: String, puback id: UInt16) {
        session(clientID)?.acknowledge(puback: id)
    }

    /// PUBREC for a QoS 2 message we sent: it is received; answer PUBREL.
    func acknowledge(clientID: String, pubrec id: UInt16) {
        session(clientID)?.acknowledge(pubrec: id)
    }

    /// PUBCOMP ends a QoS 2 message we sent; queued messages that now fit in flight go to the client's outbox.
    func acknowledge(clientID: String, pubcomp id: UInt16) {
        session(clientID)?.acknowledge(pubcomp: id)
    }

    /// Records an incoming QoS 2 PUBLISH; false when it is a resend that was already delivered.
    func receiveQoS2(clientID: String, id: UInt16) -> Bool {
        session(clientID)?.receiveQoS2(id: id) ?? false
    }

    func release(clientID: String, id: UInt16) {
        session(clientID)?.release(id: id)
    }
}
