// How long a new connection may take to authenticate, and how many may be trying at once. Before CONNECT is
// accepted a connection costs a file descriptor, TLS state and buffers, and anyone who can reach the port can open
// one: without these limits 20,000 idle sockets took every descriptor and locked legitimate devices out.

public struct MQTTAdmissionLimits: Sendable, Equatable {
    /// From TCP accept to the end of the TLS handshake (an ESP32 needs a second or two, a slow link a few more).
    public var tlsHandshakeTimeout: Duration
    /// From the end of the handshake (plain listener: from accept) to an accepted CONNECT.
    public var connectTimeout: Duration
    /// Connections between accept and an accepted CONNECT, over all peers; new ones past it are closed at once.
    public var maximumUnauthenticated: Int
    /// The same per source address, so one host (or one NAT) cannot take the whole allowance.
    public var maximumUnauthenticatedPerAddress: Int
    /// At most one log line per shed reason in this interval; the lines held back are counted in the next one.
    public var shedLogInterval: Duration

    public init(
        tlsHandshakeTimeout: Duration = .seconds(10), connectTimeout: Duration = .seconds(10),
        maximumUnauthenticated: Int = 2000, maximumUnauthenticatedPerAddress: Int = 100,
        shedLogInterval: Duration = .seconds(10)
    ) {
        self.tlsHandshakeTimeout = tlsHandshakeTimeout
        self.connectTimeout = connectTimeout
        self.maximumUnauthenticated = maximumUnauthenticated
        self.maximumUnauthenticatedPerAddress = maximumUnauthenticatedPerAddress
        self.shedLogInterval = shedLogInterval
    }
}

/// Why a connection was closed before it authenticated.
public enum MQTTShedReason: String, Sendable, CaseIterable {
    case tlsHandshakeTimeout
    case connectTimeout
    case unauthenticatedLimit
    case perAddressLimit
}

/// Connections shed since the server started, by reason (for logs, tests and metrics).
public struct MQTTShedCounts: Sendable, Equatable {
    public var tlsHandshakeTimeout = 0
    public var connectTimeout = 0
    public var unauthenticatedLimit = 0
    public var perAddressLimit = 0

    public init() {}

    public var total: Int { tlsHandshakeTimeout + connectTimeout + unauthenticatedLimit + perAddressLimit }

    public subscript(reason: MQTTShedReason) -> Int {
        get {
            switch reason {
            case .tlsHandshakeTimeout: tlsHandshakeTimeout
            case .connectTimeout: connectTimeout
            case .unauthenticatedLimit: unauthenticatedLimit
            case .perAddressLimit: perAddressLimit
            }
        }
        set {
            switch reason {
            case .tlsHandshakeTimeout: tlsHandshakeTimeout = newValue
            case .connectTimeout: connectTimeout = newValue
            case .unauthenticatedLimit: unauthenticatedLimit = newValue
            case .perAddressLimit: perAddressLimit = newValue
            }
        }
    }
}
