// How long a management API connection may take over each step. Anyone who can reach the port can open a socket
// and send nothing, or half a request; these bound what such a socket costs. Hummingbird's idle timeout does most
// of it (it runs from accept, and only complete request heads and body parts reset it); the handshake and
// whole-request deadlines are `APIDeadlineHandler`'s.

public struct APIConnectionLimits: Sendable, Equatable {
    /// From TCP accept to the end of the TLS handshake.
    public var tlsHandshakeTimeout: Duration
    /// Hummingbird's idle timeout: the longest wait for a complete request head (after accept or the previous
    /// response) and between two parts of a body. Bounds raw TCP, half a header and a stalled body.
    public var idleTimeout: Duration
    /// From a request's head to the end of its body, so a body trickled a byte at a time cannot hold a connection
    /// open (the largest upload is a few MiB: minutes on the slowest link an operator would use).
    public var requestTimeout: Duration

    public init(
        tlsHandshakeTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(30),
        requestTimeout: Duration = .seconds(300)
    ) {
        self.tlsHandshakeTimeout = tlsHandshakeTimeout
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
    }
}

/// Why the API closed a connection on its own.
public enum APIShedReason: String, Sendable, CaseIterable {
    case tlsHandshakeTimeout
    case requestTimeout
}

/// API connections closed at a deadline since the server started, by reason. Idle keep-alive connections that
/// Hummingbird closes are not counted: most are clients that simply finished.
public struct APIShedCounts: Sendable, Equatable {
    public var tlsHandshakeTimeout = 0
    public var requestTimeout = 0

    public init() {}

    public var total: Int { tlsHandshakeTimeout + requestTimeout }

    public subscript(reason: APIShedReason) -> Int {
        get {
            switch reason {
            case .tlsHandshakeTimeout: tlsHandshakeTimeout
            case .requestTimeout: requestTimeout
            }
        }
        set {
            switch reason {
            case .tlsHandshakeTimeout: tlsHandshakeTimeout = newValue
            case .requestTimeout: requestTimeout = newValue
            }
        }
    }
}
