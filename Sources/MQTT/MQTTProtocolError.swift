// Every rule of MQTT 3.1.1 a packet can break, with the section it breaks. A server closes the connection on
// any of these (§4.8); the message says what was wrong.

public enum MQTTProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformedRemainingLength
    case packetTooLarge(size: Int, limit: Int)
    case reservedPacketType(UInt8)
    case invalidFixedHeaderFlags(packet: String, flags: UInt8)
    case truncated(packet: String, field: String)
    case trailingBytes(packet: String, count: Int)
    case invalidUTF8(field: String)
    case nullCharacterInString(field: String)
    case unsupportedProtocolName(String)
    case reservedConnectFlagSet
    case invalidWillFlags
    case passwordWithoutUsername
    case invalidQoS(UInt8)
    case duplicateFlagWithQoS0
    case zeroPacketIdentifier(packet: String)
    case invalidTopicName(String, reason: String)
    case invalidTopicFilter(String, reason: String)
    case emptySubscriptionList(packet: String)
    case reservedSubscriptionOptionBits(UInt8)
    case invalidReturnCode(packet: String, code: UInt8)
    case stringTooLong(field: String, bytes: Int)

    public var description: String {
        switch self {
        case .malformedRemainingLength:
            return "malformed remaining length: more than four length bytes (§2.2.3)"
        case .packetTooLarge(let size, let limit):
            return "packet of \(size) bytes exceeds the maximum packet size of \(limit) bytes"
        case .reservedPacketType(let type):
            return "packet type \(type) is reserved (§2.2.1)"
        case .invalidFixedHeaderFlags(let packet, let flags):
            return "\(packet) has fixed-header flags 0b\(String(flags, radix: 2)), which §2.2.2 forbids"
        case .truncated(let packet, let field):
            return "\(packet) ends inside its \(field)"
        case .trailingBytes(let packet, let count):
            return "\(packet) has \(count) bytes after its last field"
        case .invalidUTF8(let field):
            return "\(field) is not well-formed UTF-8 (§1.5.3)"
        case .nullCharacterInString(let field):
            return "\(field) contains U+0000, which §1.5.3 forbids"
        case .unsupportedProtocolName(let name):
            return "protocol name '\(name)' is not MQTT (§3.1.2.1)"
        case .reservedConnectFlagSet:
            return "CONNECT sets the reserved flag bit 0 (§3.1.2.3)"
        case .invalidWillFlags:
            return "CONNECT sets will QoS or will retain without the will flag, or will QoS 3 (§3.1.2.5-7)"
        case .passwordWithoutUsername:
            return "CONNECT sets the password flag without the username flag (§3.1.2.9)"
        case .invalidQoS(let value):
            return "QoS \(value) does not exist (§4.3)"
        case .duplicateFlagWithQoS0:
            return "PUBLISH with QoS 0 sets the DUP flag (§3.3.1.1)"
        case .zeroPacketIdentifier(let packet):
            return "\(packet) uses packet identifier 0 (§2.3.1)"
        case .invalidTopicName(let topic, let reason):
            return "topic name '\(topic)' is invalid: \(reason) (§4.7)"
        case .invalidTopicFilter(let filter, let reason):
            return "topic filter '\(filter)' is invalid: \(reason) (§4.7)"
        case .emptySubscriptionList(let packet):
            return "\(packet) has no topic filters (§3.8.3, §3.10.3)"
        case .reservedSubscriptionOptionBits(let byte):
            return "SUBSCRIBE sets reserved bits in the requested-QoS byte 0x\(String(byte, radix: 16)) (§3.8.3.1)"
        case .invalidReturnCode(let packet, let code):
            return "\(packet) carries return code 0x\(String(code, radix: 16)), which does not exist"
        case .stringTooLong(let field, let bytes):
            return "\(field) is \(bytes) bytes; MQTT strings hold at most 65535"
        }
    }
}
