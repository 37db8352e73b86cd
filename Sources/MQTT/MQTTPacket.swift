// MQTT 3.1.1 control packets (OASIS standard, 29 October 2014), as values. Encoding and decoding live in
// MQTTEncoder.swift and MQTTDecoder.swift; nothing here knows about OTA.

public enum QoS: UInt8, Sendable, Comparable, CaseIterable {
    case atMostOnce = 0
    case atLeastOnce = 1
    case exactlyOnce = 2

    public static func < (lhs: QoS, rhs: QoS) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// CONNACK return codes (§3.2.2.3).
public enum ConnectReturnCode: UInt8, Sendable {
    case accepted = 0
    case unacceptableProtocolVersion = 1
    case identifierRejected = 2
    case serverUnavailable = 3
    case badUsernameOrPassword = 4
    case notAuthorized = 5
}

/// SUBACK return codes (§3.9.3): the granted QoS, or failure.
public enum SubscribeReturnCode: Equatable, Sendable {
    case granted(QoS)
    case failure

    public var rawValue: UInt8 {
        switch self {
        case .granted(let qos): return qos.rawValue
        case .failure: return 0x80
        }
    }
}

public struct Will: Equatable, Sendable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: QoS
    public var retain: Bool

    public init(topic: String, payload: [UInt8], qos: QoS = .atMostOnce, retain: Bool = false) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}

public struct ConnectPacket: Equatable, Sendable {
    public static let protocolName = "MQTT"
    public static let protocolLevel: UInt8 = 4

    /// As sent; the server answers CONNACK 0x01 to anything but level 4 (§3.1.2.2).
    public var protocolLevel: UInt8
    public var clientID: String
    public var cleanSession: Bool
    /// Seconds; 0 turns the keep-alive off.
    public var keepAlive: UInt16
    public var will: Will?
    public var username: String?
    public var password: [UInt8]?

    public init(
        clientID: String, cleanSession: Bool = true, keepAlive: UInt16 = 60, will: Will? = nil, username: String? = nil,
        password: [UInt8]? = nil, protocolLevel: UInt8 = ConnectPacket.protocolLevel
    ) {
        self.protocolLevel = protocolLevel
        self.clientID = clientID
        self.cleanSession = cleanSession
        self.keepAlive = keepAlive
        self.will = will
        self.username = username
        self.password = password
    }
}

public struct PublishPacket: Equatable, Sendable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: QoS
    public var retain: Bool
    public var duplicate: Bool
    /// Present exactly when `qos` is above 0, and never 0.
    public var packetID: UInt16?

    public init(
        topic: String, payload: [UInt8], qos: QoS = .atMostOnce, retain: Bool = false, duplicate: Bool = false,
        packetID: UInt16? = nil
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.duplicate = duplicate
        self.packetID = packetID
    }
}

public struct Subscription: Equatable, Sendable {
    public var filter: String
    public var qos: QoS

    public init(filter: String, qos: QoS) {
        self.filter = filter
        self.qos = qos
    }
}

public enum MQTTPacket: Equatable, Sendable {
    case connect(ConnectPacket)
    case connack(sessionPresent: Bool, returnCode: ConnectReturnCode)
    case publish(PublishPacket)
    case puback(packetID: UInt16)
    case pubrec(packetID: UInt16)
    case pubrel(packetID: UInt16)
    case pubcomp(packetID: UInt16)
    case subscribe(packetID: UInt16, subscriptions: [Subscription])
    case suback(packetID: UInt16, returnCodes: [SubscribeReturnCode])
    case unsubscribe(packetID: UInt16, filters: [String])
    case unsuback(packetID: UInt16)
    case pingreq
    case pingresp
    case disconnect

    /// The control packet type, the high nibble of the first byte (§2.2.1).
    public var typeCode: UInt8 {
        switch self {
        case .connect: return 1
        case .connack: return 2
        case .publish: return 3
        case .puback: return 4
        case .pubrec: return 5
        case .pubrel: return 6
        case .pubcomp: return 7
        case .subscribe: return 8
        case .suback: return 9
        case .unsubscribe: return 10
        case .unsuback: return 11
        case .pingreq: return 12
        case .pingresp: return 13
        case .disconnect: return 14
        }
    }

    static let typeNames = [
        "reserved", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK",
        "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "reserved",
    ]

    public var name: String { Self.typeNames[Int(typeCode)] }
}
