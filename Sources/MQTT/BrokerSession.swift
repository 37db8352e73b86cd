// One client's session on the broker: its connection and its QoS state (in flight, queued, QoS 2 handshakes). Each
// session has its own lock, so that one client's messages and acknowledgements never wait on another's; the broker's
// lock guards only the tables that find sessions (by client id, by subscription) and the retained messages.
// Lock order: the broker's lock may be held while a session's is taken, never the other way round.
import NIOConcurrencyHelpers

final class BrokerSession: @unchecked Sendable {
    struct State {
        var persistent: Bool
        var connection: (any MQTTConnectionEndpoint)?
        /// QoS 1/2 messages for an offline persistent session, or past the in-flight limit, oldest first.
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

        /// The next free packet id. Callers keep `unacknowledged` below the in-flight limit (far below the 65,535
        /// ids), so the scan ends within that many steps; ids are handed out in turn, so it is one step unless a
        /// client acknowledges out of order. (Unbounded, a client that never acknowledged made this loop forever
        /// once every id was taken.)
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

    /// What a message offered to the session comes to.
    enum Offer {
        /// Handed to the connection's outbox.
        case sent
        /// Kept for later (offline, or past the in-flight limit), or dropped.
        case held
        /// A connected client a whole queue behind: close this connection.
        case overflow(any MQTTConnectionEndpoint)
    }

    private let lock = NIOLock()
    private var state: State
    let maximumQueuedMessages: Int
    let maximumInflightMessages: Int

    init(persistent: Bool, maximumQueuedMessages: Int, maximumInflightMessages: Int) {
        state = State(persistent: persistent)
        self.maximumQueuedMessages = maximumQueuedMessages
        self.maximumInflightMessages = maximumInflightMessages
    }

    func withState<T>(_ body: (inout State) throws -> T) rethrows -> T {
        try lock.withLock { try body(&state) }
    }

    var connection: (any MQTTConnectionEndpoint)? { withState { $0.connection } }

    /// A message for this session: handed to its connection now when connected with room in flight, else queued (an
    /// offline persistent session drops its oldest past the queue limit; a connected client that far behind is to be
    /// closed).
    func offer(_ message: PublishPacket) -> (offer: Offer, droppedOldest: Bool) {
        withState { state in
            guard message.qos != .atMostOnce else {
                var copy = message
                copy.packetID = nil
                guard let connection = state.connection else { return (.held, false) }
                connection.send([.publish(copy)])
                return (.sent, false)
            }
            if let connection = state.connection, state.queue.isEmpty,
                state.unacknowledged < maximumInflightMessages
            {
                connection.send([.publish(state.track(message))])
                return (.sent, false)
            }
            if state.overflowed { return (.held, false) }
            var dropped = false
            if state.queue.count >= maximumQueuedMessages {
                if let connection = state.connection {
                    state.overflowed = true
                    return (.overflow(connection), false)
                }
                state.queue.removeFirst()
                dropped = true
            }
            state.queue.append(message)
            return (.held, dropped)
        }
    }

    /// Moves queued messages in flight while the session has room; returns them to send. Lock held.
    static func releaseQueued(_ state: inout State, limit: Int) -> [MQTTPacket] {
        var out: [MQTTPacket] = []
        while state.connection != nil, !state.queue.isEmpty, state.unacknowledged < limit {
            out.append(.publish(state.track(state.queue.removeFirst())))
        }
        return out
    }

    /// Takes the session over for `connection`: unacknowledged messages again with DUP, PUBRELs again, then what
    /// queued while offline. Returns the connection it had and what to send.
    func attach(_ connection: any MQTTConnectionEndpoint, persistent: Bool) -> (
        replaced: (any MQTTConnectionEndpoint)?, resend: [MQTTPacket]
    ) {
        withState { state in
            let replaced = state.connection
            state.persistent = persistent
            state.overflowed = false
            state.connection = connection
            var resend: [MQTTPacket] = state.inflight.values.sorted { $0.sequence < $1.sequence }.map { entry in
                var copy = entry.message
                copy.duplicate = true
                return .publish(copy)
            }
            resend += state.awaitingCompletion.sorted().map { .pubrel(packetID: $0) }
            resend += Self.releaseQueued(&state, limit: maximumInflightMessages)
            return (replaced, resend)
        }
    }

    // MARK: Acknowledgements (the client's own connection, on its event loop)

    /// PUBACK for a QoS 1 message we sent; hands queued messages that now fit in flight to the connection.
    func acknowledge(puback id: UInt16) {
        withState { state in
            guard state.inflight.removeValue(forKey: id) != nil else { return }
            Self.sendReleased(&state, limit: maximumInflightMessages)
        }
    }

    /// PUBREC for a QoS 2 message we sent: it is received; answer PUBREL.
    func acknowledge(pubrec id: UInt16) {
        withState { state in
            guard state.inflight.removeValue(forKey: id) != nil else { return }
            state.awaitingCompletion.insert(id)
        }
    }

    /// PUBCOMP ends a QoS 2 message we sent; hands queued messages that now fit in flight to the connection.
    func acknowledge(pubcomp id: UInt16) {
        withState { state in
            guard state.awaitingCompletion.remove(id) != nil else { return }
            Self.sendReleased(&state, limit: maximumInflightMessages)
        }
    }

    /// Released messages go to the connection's outbox under this lock, as offered ones do: handed over after it,
    /// a message released here could pass one another thread offered just before (both in order in the session,
    /// the offered one not yet in the outbox). Lock held.
    private static func sendReleased(_ state: inout State, limit: Int) {
        let released = releaseQueued(&state, limit: limit)
        if !released.isEmpty { state.connection?.send(released) }
    }

    /// Records an incoming QoS 2 PUBLISH; false when it is a resend that was already delivered.
    func receiveQoS2(id: UInt16) -> Bool { withState { $0.receivedQoS2.insert(id).inserted } }

    func release(id: UInt16) { _ = withState { $0.receivedQoS2.remove(id) } }
}
