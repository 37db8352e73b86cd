// Parses packets from a byte stream and enforces every rule of §2 and §3 that a receiver must check.
// Incomplete input returns nil and consumes nothing; invalid input throws and the connection must close.
import NIOCore

public struct MQTTDecoder: Sendable {
    /// Largest packet accepted (fixed header included). MQTT allows 256 MiB; a gateway wants far less.
    public var maximumPacketSize: Int

    public init(maximumPacketSize: Int = 268_435_455 + 5) {
        self.maximumPacketSize = maximumPacketSize
    }

    /// Decodes one packet from the front of `buffer`, or returns nil (consuming nothing) when it is incomplete.
    public func decode(_ buffer: inout ByteBuffer) throws(MQTTProtocolError) -> MQTTPacket? {
        guard let first: UInt8 = buffer.getInteger(at: buffer.readerIndex) else { return nil }
        var length = 0
        var multiplier = 1
        var headerSize = 1
        while true {
            guard let byte: UInt8 = buffer.getInteger(at: buffer.readerIndex + headerSize) else { return nil }
            headerSize += 1
            length += Int(byte & 0x7F) * multiplier
            if byte & 0x80 == 0 { break }
            multiplier *= 128
            if headerSize == 5 { throw .malformedRemainingLength }
        }
        let type = first >> 4
        guard type >= 1 && type <= 14 else { throw .reservedPacketType(type) }
        guard headerSize + length <= maximumPacketSize else {
            throw .packetTooLarge(size: headerSize + length, limit: maximumPacketSize)
        }
        guard buffer.readableBytes >= headerSize + length else { return nil }
        buffer.moveReaderIndex(forwardBy: headerSize)
        var body = buffer.readSlice(length: length)!
        let packet = try Self.decodeBody(type: type, flags: first & 0x0F, body: &body)
        if body.readableBytes > 0 {
            throw .trailingBytes(packet: MQTTPacket.typeNames[Int(type)], count: body.readableBytes)
        }
        return packet
    }

    /// Decodes a whole packet held in `bytes` (tests and tools).
    public func decode(bytes: [UInt8]) throws(MQTTProtocolError) -> MQTTPacket? {
        var buffer = ByteBufferAllocator().buffer(bytes: bytes)
        return try decode(&buffer)
    }

    static func decodeBody(type: UInt8, flags: UInt8, body: inout ByteBuffer) throws(MQTTProtocolError) -> MQTTPacket {
        let name = MQTTPacket.typeNames[Int(type)]
        var reader = FieldReader(packet: name, buffer: body)
        defer { body = reader.buffer }
        // §2.2.2: only PUBLISH has free flags; PUBREL, SUBSCRIBE and UNSUBSCRIBE must carry 0b0010, the rest 0.
        let requiredFlags: UInt8? = type == 3 ? nil : ([6, 8, 10].contains(type) ? 0x02 : 0x00)
        if let requiredFlags, flags != requiredFlags { throw .invalidFixedHeaderFlags(packet: name, flags: flags) }
        switch type {
        case 1: return .connect(try decodeConnect(&reader))
        case 2:
            let acknowledge = try reader.byte("acknowledge flags")
            guard acknowledge & 0xFE == 0 else { throw .invalidFixedHeaderFlags(packet: name, flags: acknowledge) }
            let code = try reader.byte("return code")
            guard let returnCode = ConnectReturnCode(rawValue: code) else {
                throw .invalidReturnCode(packet: name, code: code)
            }
            return .connack(sessionPresent: acknowledge == 1, returnCode: returnCode)
        case 3: return .publish(try decodePublish(flags: flags, &reader))
        case 4: return .puback(packetID: try reader.packetID())
        case 5: return .pubrec(packetID: try reader.packetID())
        case 6: return .pubrel(packetID: try reader.packetID())
        case 7: return .pubcomp(packetID: try reader.packetID())
        case 8:
            let id = try reader.packetID()
            var subscriptions: [Subscription] = []
            while reader.buffer.readableBytes > 0 {
                let filter = try reader.string("topic filter")
                try Topic.validateFilter(filter)
                let options = try reader.byte("requested QoS")
                guard options & 0xFC == 0 else { throw .reservedSubscriptionOptionBits(options) }
                guard let qos = QoS(rawValue: options) else { throw .invalidQoS(options) }
                subscriptions.append(Subscription(filter: filter, qos: qos))
            }
            guard !subscriptions.isEmpty else { throw .emptySubscriptionList(packet: name) }
            return .subscribe(packetID: id, subscriptions: subscriptions)
        case 9:
            let id = try reader.packetID()
            var codes: [SubscribeReturnCode] = []
            while reader.buffer.readableBytes > 0 {
                let code = try reader.byte("return code")
                if code == 0x80 {
                    codes.append(.failure)
                } else if let qos = QoS(rawValue: code) {
                    codes.append(.granted(qos))
                } else {
                    throw .invalidReturnCode(packet: name, code: code)
                }
            }
            return .suback(packetID: id, returnCodes: codes)
        case 10:
            let id = try reader.packetID()
            var filters: [String] = []
            while reader.buffer.readableBytes > 0 {
                let filter = try reader.string("topic filter")
                try Topic.validateFilter(filter)
                filters.append(filter)
            }
            guard !filters.isEmpty else { throw .emptySubscriptionList(packet: name) }
            return .unsubscribe(packetID: id, filters: filters)
        case 11: return .unsuback(packetID: try reader.packetID())
        case 12: return .pingreq
        case 13: return .pingresp
        default: return .disconnect
        }
    }

    static func decodeConnect(_ reader: inout FieldReader) throws(MQTTProtocolError) -> ConnectPacket {
        let protocolName = try reader.string("protocol name")
        // "MQIsdp" is MQTT 3.1: read on, so that the server can answer 0x01 (unacceptable protocol version).
        guard protocolName == ConnectPacket.protocolName || protocolName == "MQIsdp" else {
            throw .unsupportedProtocolName(protocolName)
        }
        let level = try reader.byte("protocol level")
        let flags = try reader.byte("connect flags")
        guard flags & 0x01 == 0 else { throw .reservedConnectFlagSet }
        let keepAlive = try reader.u16("keep alive")
        let clientID = try reader.string("client identifier")
        let hasWill = flags & 0x04 != 0
        let willQoSBits = (flags >> 3) & 0x03
        let willRetain = flags & 0x20 != 0
        var will: Will?
        if hasWill {
            guard let qos = QoS(rawValue: willQoSBits) else { throw .invalidWillFlags }
            let topic = try reader.string("will topic")
            try Topic.validateName(topic)
            will = Will(topic: topic, payload: try reader.binary("will message"), qos: qos, retain: willRetain)
        } else if willQoSBits != 0 || willRetain {
            throw .invalidWillFlags
        }
        let hasUsername = flags & 0x80 != 0
        let hasPassword = flags & 0x40 != 0
        if hasPassword && !hasUsername { throw .passwordWithoutUsername }
        let username = hasUsername ? try reader.string("user name") : nil
        let password = hasPassword ? try reader.binary("password") : nil
        return ConnectPacket(
            clientID: clientID, cleanSession: flags & 0x02 != 0, keepAlive: keepAlive, will: will, username: username,
            password: password, protocolLevel: protocolName == "MQIsdp" ? 3 : level)
    }

    static func decodePublish(flags: UInt8, _ reader: inout FieldReader) throws(MQTTProtocolError) -> PublishPacket {
        let qosBits = (flags >> 1) & 0x03
        guard let qos = QoS(rawValue: qosBits) else { throw .invalidQoS(qosBits) }
        let duplicate = flags & 0x08 != 0
        if qos == .atMostOnce && duplicate { throw .duplicateFlagWithQoS0 }
        let topic = try reader.string("topic name")
        try Topic.validateName(topic)
        let packetID = qos == .atMostOnce ? nil : try reader.packetID()
        let payload = reader.rest()
        return PublishPacket(
            topic: topic, payload: payload, qos: qos, retain: flags & 0x01 != 0, duplicate: duplicate,
            packetID: packetID)
    }
}

/// Reads the fields of one packet body, turning every shortfall into `truncated` with the field's name.
struct FieldReader {
    let packet: String
    var buffer: ByteBuffer

    mutating func byte(_ field: String) throws(MQTTProtocolError) -> UInt8 {
        guard let value: UInt8 = buffer.readInteger() else { throw .truncated(packet: packet, field: field) }
        return value
    }

    mutating func u16(_ field: String) throws(MQTTProtocolError) -> UInt16 {
        guard let value: UInt16 = buffer.readInteger() else { throw .truncated(packet: packet, field: field) }
        return value
    }

    mutating func packetID() throws(MQTTProtocolError) -> UInt16 {
        let id = try u16("packet identifier")
        guard id != 0 else { throw .zeroPacketIdentifier(packet: packet) }
        return id
    }

    mutating func binary(_ field: String) throws(MQTTProtocolError) -> [UInt8] {
        let length = Int(try u16(field + " length"))
        guard let bytes = buffer.readBytes(length: length) else { throw .truncated(packet: packet, field: field) }
        return bytes
    }

    /// A UTF-8 string field: well-formed, no U+0000 (§1.5.3).
    mutating func string(_ field: String) throws(MQTTProtocolError) -> String {
        let bytes = try binary(field)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8(field: field) }
        if bytes.contains(0) { throw .nullCharacterInString(field: field) }
        return text
    }

    mutating func rest() -> [UInt8] {
        buffer.readBytes(length: buffer.readableBytes) ?? []
    }
}
