// Serialises packets (§2, §3). Encoding trusts its input to be valid: packets are built by this process.
import NIOCore

extension MQTTPacket {
    /// Appends the wire form of this packet to `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        var body = ByteBufferAllocator().buffer(capacity: bodySizeHint)
        let flags = writeBody(to: &body)
        buffer.writeInteger(typeCode << 4 | flags)
        MQTTEncoding.writeRemainingLength(body.readableBytes, to: &buffer)
        buffer.writeBuffer(&body)
    }

    public var encoded: [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: bodySizeHint + 5)
        write(to: &buffer)
        return Array(buffer.readableBytesView)
    }

    private var bodySizeHint: Int {
        if case .publish(let publish) = self { return publish.topic.utf8.count + publish.payload.count + 4 }
        return 32
    }

    /// Writes the variable header and payload; returns the fixed-header flag nibble.
    private func writeBody(to body: inout ByteBuffer) -> UInt8 {
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
            return 0
        case .connack(let sessionPresent, let returnCode):
            body.writeInteger(UInt8(sessionPresent ? 1 : 0))
            body.writeInteger(returnCode.rawValue)
            return 0
        case .publish(let publish):
            MQTTEncoding.writeString(publish.topic, to: &body)
            if publish.qos != .atMostOnce { body.writeInteger(publish.packetID ?? 0) }
            body.writeBytes(publish.payload)
            return (publish.duplicate ? 0x08 : 0) | publish.qos.rawValue << 1 | (publish.retain ? 0x01 : 0)
        case .puback(let id), .pubrec(let id), .pubcomp(let id), .unsuback(let id):
            body.writeInteger(id)
            return 0
        case .pubrel(let id):
            body.writeInteger(id)
            return 0x02
        case .subscribe(let id, let subscriptions):
            body.writeInteger(id)
            for subscription in subscriptions {
                MQTTEncoding.writeString(subscription.filter, to: &body)
                body.writeInteger(subscription.qos.rawValue)
            }
            return 0x02
        case .suback(let id, let codes):
            body.writeInteger(id)
            for code in codes { body.writeInteger(code.rawValue) }
            return 0
        case .unsubscribe(let id, let filters):
            body.writeInteger(id)
            for filter in filters { MQTTEncoding.writeString(filter, to: &body) }
            return 0x02
        case .pingreq, .pingresp, .disconnect:
            return 0
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

    static func writeString(_ text: String, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(truncatingIfNeeded: text.utf8.count))
        buffer.writeString(text)
    }

    static func writeBinary(_ bytes: [UInt8], to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(truncatingIfNeeded: bytes.count))
        buffer.writeBytes(bytes)
    }
}
