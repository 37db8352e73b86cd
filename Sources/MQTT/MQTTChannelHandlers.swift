// Frames MQTT packets on a NIO channel: bytes in → MQTTPacket, MQTTPacket out → bytes; each counted in `metrics`.
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

final class MQTTPacketEncoderHandler: MessageToByteEncoder {
    typealias OutboundIn = MQTTPacket
    let metrics: MQTTTrafficMetrics

    init(metrics: MQTTTrafficMetrics = MQTTTrafficMetrics()) {
        self.metrics = metrics
    }

    func encode(data: MQTTPacket, out: inout ByteBuffer) throws {
        let start = out.writerIndex
        data.write(to: &out)
        metrics.packetsSent.increment()
        metrics.bytesSent.increment(by: out.writerIndex - start)
    }
}
