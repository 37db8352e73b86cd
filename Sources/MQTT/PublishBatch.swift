// Several QoS 0 PUBLISH packets to one session, encoded once, straight into the buffer the connection writes: a
// stream response's CBOR blocks go from the file's bytes to the TLS layer with one copy and as one write, which NIOSSL
// seals into records of up to 16 KiB instead of one record (and one trip through the pipeline) per block.
import NIOCore

public struct PublishBatch: Sendable {
    /// The encoded packets, back to back.
    public private(set) var buffer: ByteBuffer
    /// How many packets `buffer` holds.
    public private(set) var count = 0

    /// `capacity`: the bytes the batch is expected to take (it grows past them if needed).
    public init(capacity: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    public var isEmpty: Bool { count == 0 }

    /// The bytes one PUBLISH with this topic and payload size takes on the wire (to size a batch).
    public static func encodedSize(topic: String, payloadSize: Int) -> Int {
        MQTTEncoding.packetSize(bodyLength: 2 + topic.utf8.count + payloadSize)
    }

    /// Appends a QoS 0 PUBLISH of `topic` whose payload is `prefix` followed by `payload` (a small header and a
    /// slice of a larger buffer, each copied once, here). The topic is not checked: the caller builds it, and it
    /// must fit MQTT's 65,535 bytes (a stream's data topic does: its stream id was granted by the service).
    public mutating func append(topic: String, prefix: [UInt8] = [], payload: ArraySlice<UInt8>) {
        let body = 2 + topic.utf8.count + prefix.count + payload.count
        buffer.reserveCapacity(minimumWritableBytes: body + 5)
        buffer.writeInteger(UInt8(0x30))
        MQTTEncoding.writeRemainingLength(body, to: &buffer)
        MQTTEncoding.writeString(topic, to: &buffer)
        buffer.writeBytes(prefix)
        buffer.writeBytes(payload)
        count += 1
    }
}
