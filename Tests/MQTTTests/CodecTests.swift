import MQTT
import NIOCore
import TestSupport
import Testing

@Suite struct CodecTests {
    static let samples: [MQTTPacket] = [
        .connect(ConnectPacket(clientID: "esp32-01")),
        .connect(
            ConnectPacket(
                clientID: "c", cleanSession: false, keepAlive: 0,
                will: Will(topic: "w/t", payload: [1, 2], qos: .atLeastOnce, retain: true),
                username: "user?SDK=x", password: [0, 255])),
        .connack(sessionPresent: true, returnCode: .accepted),
        .connack(sessionPresent: false, returnCode: .notAuthorized),
        .publish(PublishPacket(topic: "a/b", payload: [])),
        .publish(
            PublishPacket(
                topic: "$aws/things/t/streams/s/data/cbor", payload: Array(repeating: 7, count: 5000),
                qos: .atLeastOnce, retain: true, duplicate: true, packetID: 65535)),
        .publish(PublishPacket(topic: "é/ü", payload: [1], qos: .exactlyOnce, packetID: 1)),
        .puback(packetID: 1), .pubrec(packetID: 2), .pubrel(packetID: 3), .pubcomp(packetID: 4),
        .subscribe(
            packetID: 9,
            subscriptions: [
                Subscription(filter: "a/+/c", qos: .exactlyOnce), Subscription(filter: "#", qos: .atMostOnce),
            ]),
        .suback(packetID: 9, returnCodes: [.granted(.atLeastOnce), .failure]),
        .unsubscribe(packetID: 10, filters: ["a/#"]), .unsuback(packetID: 10),
        .pingreq, .pingresp, .disconnect,
    ]

    @Test func everyPacketTypeRoundTrips() throws {
        for packet in Self.samples {
            #expect(try MQTTDecoder().decode(bytes: packet.encoded) == packet, "\(packet.name)")
        }
    }

    /// A batch is what the packets encoded one by one would be, back to back, sized as `encodedSize` says —
    /// across the remaining-length boundaries (127/128, 16,383/16,384 bytes of body).
    @Test func aPublishBatchIsItsPacketsEncodedOneByOne() throws {
        let topic = "$aws/things/t/streams/s/data/cbor"
        let file = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let cases: [(prefix: [UInt8], payload: ArraySlice<UInt8>)] = [
            ([], file[0..<0]), ([0xA4, 0x61], file[0..<3]), ([], file[7..<(7 + 125 - topic.utf8.count - 2)]),
            ([9], file[100..<(100 + 125 - topic.utf8.count - 2)]), ([1, 2, 3], file[5..<4101]),
            ([], file[0..<(16_383 - topic.utf8.count - 2)]), ([0xFF], file[0..<(16_383 - topic.utf8.count - 2)]),
        ]
        var batch = PublishBatch(capacity: 16)
        var expected: [UInt8] = []
        for (prefix, payload) in cases {
            let packet = MQTTPacket.publish(PublishPacket(topic: topic, payload: prefix + payload))
            #expect(
                PublishBatch.encodedSize(topic: topic, payloadSize: prefix.count + payload.count)
                    == packet.encoded.count)
            batch.append(topic: topic, prefix: prefix, payload: payload)
            expected += packet.encoded
        }
        #expect(batch.count == cases.count)
        #expect(Array(batch.buffer.readableBytesView) == expected)
        var buffer = batch.buffer
        let decoder = MQTTDecoder()
        for (prefix, payload) in cases {
            #expect(try decoder.decode(&buffer) == .publish(PublishPacket(topic: topic, payload: prefix + payload)))
        }
        #expect(buffer.readableBytes == 0)
    }

    @Test func knownEncodings() {
        #expect(MQTTPacket.pingreq.encoded == [0xC0, 0x00])
        #expect(MQTTPacket.disconnect.encoded == [0xE0, 0x00])
        #expect(MQTTPacket.connack(sessionPresent: false, returnCode: .accepted).encoded == [0x20, 0x02, 0x00, 0x00])
        #expect(MQTTPacket.pubrel(packetID: 0x1234).encoded == [0x62, 0x02, 0x12, 0x34])
        let connect = MQTTPacket.connect(ConnectPacket(clientID: "ab", keepAlive: 60)).encoded
        #expect(connect == [0x10, 14, 0, 4, 0x4D, 0x51, 0x54, 0x54, 4, 0x02, 0, 60, 0, 2, 0x61, 0x62])
        // Remaining length 321 = 0xC1 0x02 (§2.2.3 example values).
        let big = MQTTPacket.publish(PublishPacket(topic: "t", payload: Array(repeating: 0, count: 318))).encoded
        #expect(Array(big[0..<3]) == [0x30, 0xC1, 0x02])
    }

    @Test func decodingWaitsForWholePacketsAndConsumesNothingMeanwhile() throws {
        let stream = Self.samples.flatMap(\.encoded)
        var buffer = ByteBufferAllocator().buffer(capacity: stream.count)
        var decoded: [MQTTPacket] = []
        for byte in stream {
            buffer.writeInteger(byte)
            while let packet = try MQTTDecoder().decode(&buffer) { decoded.append(packet) }
        }
        #expect(decoded == Self.samples)
        #expect(buffer.readableBytes == 0)
    }

    @Test(
        arguments: [
            ([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], MQTTProtocolError.malformedRemainingLength),
            ([0x00, 0x00], .reservedPacketType(0)),
            ([0xF0, 0x00], .reservedPacketType(15)),
            ([0xC1, 0x00], .invalidFixedHeaderFlags(packet: "PINGREQ", flags: 1)),
            ([0x60, 0x02, 0x00, 0x01], .invalidFixedHeaderFlags(packet: "PUBREL", flags: 0)),
            (
                [0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00],
                .invalidFixedHeaderFlags(packet: "SUBSCRIBE", flags: 0)
            ),
            ([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01], .invalidQoS(3)),
            ([0x38, 0x03, 0x00, 0x01, 0x61], .duplicateFlagWithQoS0),
            ([0x32, 0x05, 0x00, 0x01, 0x61, 0x00, 0x00], .zeroPacketIdentifier(packet: "PUBLISH")),
            ([0x30, 0x03, 0x00, 0x01, 0x23], .invalidTopicName("#", reason: "it contains a wildcard")),
            ([0x30, 0x02, 0x00, 0x00], .invalidTopicName("", reason: "it is empty")),
            ([0x30, 0x04, 0x00, 0x02, 0xC3, 0x28], .invalidUTF8(field: "topic name")),
            ([0x30, 0x04, 0x00, 0x02, 0x61, 0x00], .nullCharacterInString(field: "topic name")),
            ([0x30, 0x04, 0x00, 0x05, 0x61, 0x62], .truncated(packet: "PUBLISH", field: "topic name")),
            ([0x82, 0x02, 0x00, 0x01], .emptySubscriptionList(packet: "SUBSCRIBE")),
            ([0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x04], .reservedSubscriptionOptionBits(4)),
            ([0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x03], .invalidQoS(3)),
            (
                [0x82, 0x07, 0x00, 0x01, 0x00, 0x02, 0x61, 0x23, 0x00],
                .invalidTopicFilter("a#", reason: "'#' must be the whole last level")
            ),
            (
                [0x82, 0x08, 0x00, 0x01, 0x00, 0x03, 0x23, 0x2F, 0x61, 0x00],
                .invalidTopicFilter("#/a", reason: "'#' must be the whole last level")
            ),
            (
                [0x82, 0x07, 0x00, 0x01, 0x00, 0x02, 0x61, 0x2B, 0x00],
                .invalidTopicFilter("a+", reason: "'+' must be a whole level")
            ),
            ([0xA2, 0x02, 0x00, 0x01], .emptySubscriptionList(packet: "UNSUBSCRIBE")),
            ([0x40, 0x03, 0x00, 0x01, 0x00], .trailingBytes(packet: "PUBACK", count: 1)),
            ([0xC0, 0x01, 0x00], .trailingBytes(packet: "PINGREQ", count: 1)),
            ([0x90, 0x03, 0x00, 0x01, 0x03], .invalidReturnCode(packet: "SUBACK", code: 3)),
            ([0x20, 0x02, 0x00, 0x06], .invalidReturnCode(packet: "CONNACK", code: 6)),
        ] as [([UInt8], MQTTProtocolError)])
    func malformedPacketsAreTypedErrors(bytes: [UInt8], error: MQTTProtocolError) {
        #expect(throws: error) { try MQTTDecoder().decode(bytes: bytes) }
    }

    /// CONNECT variants: the bytes after the fixed header are built from parts so each rule is hit alone.
    static func connect(name: String = "MQTT", level: UInt8 = 4, flags: UInt8 = 0x02, payload: [UInt8] = [0, 1, 0x63])
        -> [UInt8]
    {
        let body = [0, UInt8(name.utf8.count)] + Array(name.utf8) + [level, flags, 0, 60] + payload
        return [0x10, UInt8(body.count)] + body
    }

    @Test func connectRules() throws {
        #expect(throws: MQTTProtocolError.unsupportedProtocolName("MQTX")) {
            try MQTTDecoder().decode(bytes: Self.connect(name: "MQTX"))
        }
        #expect(throws: MQTTProtocolError.reservedConnectFlagSet) {
            try MQTTDecoder().decode(bytes: Self.connect(flags: 0x03))
        }
        #expect(throws: MQTTProtocolError.invalidWillFlags) {
            try MQTTDecoder().decode(bytes: Self.connect(flags: 0x0A))
        }
        #expect(throws: MQTTProtocolError.invalidWillFlags) {
            try MQTTDecoder().decode(bytes: Self.connect(flags: 0x22))
        }
        #expect(throws: MQTTProtocolError.passwordWithoutUsername) {
            try MQTTDecoder().decode(bytes: Self.connect(flags: 0x42, payload: [0, 1, 0x63, 0, 0]))
        }
        #expect(throws: MQTTProtocolError.invalidUTF8(field: "client identifier")) {
            try MQTTDecoder().decode(bytes: Self.connect(payload: [0, 2, 0xED, 0xA0]))  // a UTF-16 surrogate
        }
        // Level 3 and 5 decode; the server turns them into CONNACK 0x01.
        guard case .connect(let old)? = try MQTTDecoder().decode(bytes: Self.connect(level: 5)) else {
            Issue.record(); return
        }
        #expect(old.protocolLevel == 5)
        guard case .connect(let v31)? = try MQTTDecoder().decode(bytes: Self.connect(name: "MQIsdp", level: 3)) else {
            Issue.record(); return
        }
        #expect(v31.protocolLevel == 3)
    }

    @Test func oversizedPacketsAreRefusedFromTheHeaderAlone() {
        let decoder = MQTTDecoder(maximumPacketSize: 1024)
        // Only the fixed header has arrived: the length alone is enough to refuse.
        #expect(throws: MQTTProtocolError.packetTooLarge(size: 3 + 2000, limit: 1024)) {
            try decoder.decode(bytes: [0x30, 0xD0, 0x0F])
        }
    }
}

@Suite struct TopicTests {
    @Test(arguments: [
        ("sport/tennis/player1/#", "sport/tennis/player1", true),
        ("sport/tennis/player1/#", "sport/tennis/player1/ranking", true),
        ("sport/#", "sport", true),
        ("#", "anything/at/all", true),
        ("sport/+/player1", "sport/tennis/player1", true),
        ("sport/+", "sport", false),
        ("sport/+", "sport/", true),
        ("+/+", "/finance", true),
        ("/+", "/finance", true),
        ("+", "/finance", false),
        ("#", "$SYS/broker", false),
        ("+/monitor/Clients", "$SYS/monitor/Clients", false),
        ("$SYS/#", "$SYS/monitor", true),
        ("$aws/things/+/jobs/notify-next", "$aws/things/t1/jobs/notify-next", true),
        ("$aws/things/t1/#", "$aws/things/t2/jobs/notify", false),
        ("a/b", "a/b/c", false),
    ])
    func matching(filter: String, topic: String, expected: Bool) throws {
        try Topic.validateFilter(filter)
        #expect(Topic.matches(filter: filter, topic: topic) == expected)
    }
}

@Suite struct CodecFuzzTests {
    /// 100,000 mutated packets: never a crash; whatever decodes re-encodes to something that decodes the same.
    @Test func mutatedPacketsNeverCrashAndValidOnesRoundTrip() throws {
        var random = SeededGenerator(seed: 0x4D515454)
        let seeds = CodecTests.samples.map(\.encoded)
        let decoder = MQTTDecoder(maximumPacketSize: 64 * 1024)
        var decoded = 0
        for index in 0..<100_000 {
            var bytes = seeds[index % seeds.count]
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let position = Int.random(in: 0..<max(bytes.count, 1), using: &random)
                switch Int.random(in: 0..<5, using: &random) {
                case 0 where !bytes.isEmpty: bytes[position] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
                case 1 where !bytes.isEmpty: bytes[position] = UInt8.random(in: 0...255, using: &random)
                case 2: bytes.removeLast(min(bytes.count, Int.random(in: 1...4, using: &random)))
                case 3: bytes.append(UInt8.random(in: 0...255, using: &random))
                default: if !bytes.isEmpty { bytes.insert(UInt8.random(in: 0...255, using: &random), at: position) }
                }
            }
            var buffer = ByteBufferAllocator().buffer(bytes: bytes)
            do {
                while let packet = try decoder.decode(&buffer) {
                    decoded += 1
                    #expect(try decoder.decode(bytes: packet.encoded) == packet)
                }
            } catch {
                #expect(!error.description.isEmpty)
            }
        }
        #expect(decoded > 10_000, "mutations should leave many packets valid; \(decoded) were")
    }
}
