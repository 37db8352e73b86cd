// libFuzzer target: the MQTT 3.1.1 packet decoder that the server and the client run on every byte a peer sends
// (scripts/fuzz). The input is a stream: packets are decoded from its front until one is incomplete or invalid,
// under the default size limit and under a small one. Besides never crashing: an incomplete packet consumes
// nothing, a decoded packet consumes at least its fixed header, and every decoded packet encodes to bytes that
// decode to the same packet.
import MQTT
import NIOCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMQTTPacket(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for decoder in [MQTTDecoder(), MQTTDecoder(maximumPacketSize: 64)] {
        var buffer = ByteBuffer(bytes: bytes)
        while buffer.readableBytes > 0 {
            let start = buffer.readerIndex
            let packet: MQTTPacket?
            do {
                packet = try decoder.decode(&buffer)
            } catch {
                break  // A typed MQTTProtocolError: the connection closes.
            }
            guard let packet else {
                precondition(buffer.readerIndex == start, "an incomplete packet consumed bytes")
                break
            }
            precondition(buffer.readerIndex >= start + 2, "a packet was decoded from less than its fixed header")
            let encoded = packet.encoded
            precondition((try? MQTTDecoder().decode(bytes: encoded)) == packet, "encode → decode changed the packet")
        }
    }
    return 0
}
