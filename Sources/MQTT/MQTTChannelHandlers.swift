// Frames MQTT packets on a NIO channel: bytes in → MQTTPacket (counted in `metrics`), MQTTPacket out → bytes.
import NIOCore

final class MQTTPacketDecoderHandler: ByteToMessageDecoder {
    typealias InboundOut = MQTTPacket
    let decoder: MQTTDecoder
    let metrics: MQTTTrafficMetrics

    init(maximumPacketSize: Int, metrics: MQTTTrafficMetrics = MQTTTrafficMetrics()) {
        decoder = MQTTDecoder(maximumPacketSize: maximumPacketSize)
        self.metrics = metrics
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let start = buffer.readerIndex
        guard let packet = try decoder.decode(&buffer) else { return .needMoreData }
        metrics.packetsReceived.increment()
        metrics.bytesReceived.increment(by: buffer.readerIndex - start)
        context.fireChannelRead(wrapInboundOut(packet))
        return .continue
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

/// The client's outbound framing (the server's is `MQTTFrameEncoder`, which also passes encoded batches through).
final class MQTTPacketEncoderHandler: MessageToByteEncoder {
    typealias OutboundIn = MQTTPacket

    func encode(data: MQTTPacket, out: inout ByteBuffer) throws {
        data.write(to: &out)
    }
}
