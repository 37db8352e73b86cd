// Where one server connection is between its first byte and its close, and what its end must undo. A pure value,
// so that every path (CONNECT refused, clean DISCONNECT, protocol violation, peer gone, session taken over) is
// tested without sockets.
//
// The two mistakes this type exists to prevent: a clean DISCONNECT that skipped the detach (the session stayed
// "connected" forever, its subscriptions lingered, the next CONNECT looked like a takeover), and a connection that
// lost its session to a takeover and then detached the new owner when its socket finally closed.

struct ConnectionLifecycle: Equatable {
    enum State: Equatable {
        /// TCP (and TLS) up, no CONNECT yet.
        case awaitingConnect
        /// CONNECT accepted: the connection owns the session of `clientID` (until a takeover says otherwise).
        case connected(clientID: String)
        /// The client sent DISCONNECT: nothing more is read, the will is discarded, the session still has to be
        /// detached when the channel closes.
        case disconnecting(clientID: String)
        /// Refused before CONNECT completed, or closed and detached.
        case closed
    }

    /// What the end of a connection must do.
    struct Ending: Equatable {
        let clientID: String
        /// Publish the will: the connection ended without DISCONNECT (§3.1.2.5).
        let publishWill: Bool
    }

    private(set) var state = State.awaitingConnect

    /// Packets are handled only between an accepted CONNECT and DISCONNECT (§3.14.4: nothing after it).
    var clientID: String? {
        if case .connected(let clientID) = state { return clientID }
        return nil
    }

    var awaitsConnect: Bool { state == .awaitingConnect }

    mutating func accepted(clientID: String) {
        guard state == .awaitingConnect else { return }
        state = .connected(clientID: clientID)
    }

    /// CONNECT refused, or a violation before it: nothing to detach.
    mutating func refused() {
        if state == .awaitingConnect { state = .closed }
    }

    mutating func receivedDisconnect() {
        guard case .connected(let clientID) = state else { return }
        state = .disconnecting(clientID: clientID)
    }

    /// The channel closed: the session to detach and whether its will goes out (once; later calls return nil).
    mutating func channelClosed() -> Ending? {
        defer { state = .closed }
        switch state {
        case .connected(let clientID): return Ending(clientID: clientID, publishWill: true)
        case .disconnecting(let clientID): return Ending(clientID: clientID, publishWill: false)
        case .awaitingConnect, .closed: return nil
        }
    }
}
