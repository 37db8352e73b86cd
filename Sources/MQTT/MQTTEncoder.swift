// Serialises packets (§2, §3). Encoding trusts its input to be valid: packets are built by this process.
import NIOCore

extension MQTTPacket {
    /// Appends the wire form of this packet to `buffer`, writing straight into it (no intermediate body buffer).
    public func write(to buffer: inout ByteBuffer) {
        let length = bodyLength
        buffer.reserveCapacity(minimumWritableBytes: length + 5)
        buffer.writeInteger(typeCode << 4 | flags)
        MQTTEncoding.writeRemainingLength(length, to: &buffer)
        writeBody(to: &buffer)
    }

    /// The bytes `write(to:)` appends.
    var encodedSize: Int { MQTTEncoding.packetSize(bodyLength: bodyLength) }

    public var encoded: [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: encodedSize)
        write(to: &buffer)
        return Array(buffer.readableBytesView)
    }

    /// The fixed-header flag nibble (§2.2.2).
    private var flags: UInt8 {
        switch self {
        case .publish(let publish):
            return (publish.duplicate ? 0x08 : 0) | publish.qos.rawValue << 1 | (publish.retain ? 0x01 : 0)
        case .pubrel, .subscribe, .unsubscribe: return 0x02
        default: return 0
        }
    }

    /// Bytes after the fixed header: the remaining length.
    private var bodyLength: Int {
        func string(_ text: String) -> Int { 2 + text.utf8.count }
        switch self {
        case .connect(let connect):
            var length = string(ConnectPacket.protocolName) + 4 + string(connect.clientID)
            if let will = connect.will { length += string(will.topic) + 2 + will.payload.count }
            if let username = connect.username { length += string(username) }
            if let password = connect.password { length += 2 + password.count }
            return length
        case .connack: return 2
        case .publish(let publish):
            return string(publish.topic) + (publish.qos == .atMostOnce ? 0 : 2) + publish.payload.count
        case .puback, .pubrec, .pubrel, .pubcomp, .unsuback: return 2
        case .subscribe(_, let subscriptions): return 2 + subscriptions.reduce(0) { $0 + string($1.filter) + 1 }
        case .suback(_, let codes): return 2 + codes.count
        case .unsubscribe(_, let filters): return 2 + filters.reduce(0) { $0 + string($1) }
        case .pingreq, .pingresp, .disconnect: return 0
        }
    }

    private func writeBody(to body: inout ByteBuffer) {
        switch self {
        case .connect(let connect):
            MQTTEncoding.writeString(ConnectPacket.protocolName, to: &body)
            body.writeInteger(connect.protocolLevel)
            var flags: UInt8 = connect.cleanSession ? 0x02 : 0
            if let will = connect.will {
                flags |= 0x04 | will.qos.rawValue << 3 | (will.retain ? 0x20 : 0)
            }
            if connect.password != nil { flags |= 0x40 }
            if connect.username != nil { flags |= 0x80 }
            body.writeInteger(flags)
            body.writeInteger(connect.keepAlive)
            MQTTEncoding.writeString(connect.clientID, to: &body)
            if let will = connect.will {
                MQTTEncoding.writeString(will.topic, to: &body)
                MQTTEncoding.writeBinary(will.payload, to: &body)
            }
            if let username = connect.username { MQTTEncoding.writeString(username, to: &body) }
            if let password = connect.password { MQTTEncoding.writeBinary(password, to: &body) }
        case .connack(let sessionPresent, let returnCode):
            body.writeInteger(UInt8(sessionPresent ? 1 : 0))
            body.writeInteger(returnCode.rawValue)
        case .publish(let publish):
            MQTTEncoding.writeString(publish.topic, to: &body)
            if publish.qos != .atMostOnce { body.writeInteger(publish.packetID ?? 0) }
            body.writeBytes(publish.payload)
        case .puback(let id), .pubrec(let id), .pubrel(let id), .pubcomp(let id), .unsuback(let id):
            body.writeInteger(id)
        case .subscribe(let id, let subscriptions):
            body.writeInteger(id)
            for subscription in subscriptions {
                MQTTEncoding.writeString(subscription.filter, to: &body)
                body.writeInteger(subscription.qos.rawValue)
            }
        case .suback(let id, let codes):
            body.writeInteger(id)
            for code in codes { body.writeInteger(code.rawValue) }
        case .unsubscribe(let id, let filters):
            body.writeInteger(id)
            for filter in filters { MQTTEncoding.writeString(filter, to: &body) }
        case .pingreq, .pingresp, .disconnect:
            break
        }
    }
}

enum MQTTEncoding {
    /// §2.2.3: seven bits per byte, least significant first, continuation bit 0x80; at most 268,435,455.
    static func writeRemainingLength(_ length: Int, to buffer: inout ByteBuffer) {
        var value = length
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value > 0 { byte |= 0x80 }
            buffer.writeInteger(byte)
        } while value > 0
    }

    /// A whole packet's bytes for a body of `bodyLength`: the type byte, the remaining length, the body.
    static func packetSize(bodyLength: Int) -> Int {
        let lengthBytes =
            switch bodyLength {
            case ..<128: 1
            case ..<16_384: 2
            case ..<2_097_152: 3
            default: 4
            }
        return 1 + lengthBytes + bodyLength
    }

    static func writeString(_ text: String, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(truncatingIfNeeded: text.utf8.count))
        buffer.writeString(text)
    }

    static func writeBinary(_ bytes: [UInt8], to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(truncatingIfNeeded: bytes.count))
        buffer.writeBytes(bytes)
    }
}
