// Frames MQTT packets on a NIO channel: bytes in → MQTTPacket, MQTTPacket out → bytes.
import NIOCore

final class MQTTPacketDecoderHandler: ByteToMessageDecoder {
    typealias InboundOut = MQTTPacket
    let decoder: MQTTDecoder

    init(maximumPacketSize: Int) {
        decoder = MQTTDecoder(maximumPacketSize: maximumPacketSize)
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let packet = try decoder.decode(&buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(packet))
        return .continue
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

final class MQTTPacketEncoderHandler: MessageToByteEncoder {
    typealias OutboundIn = MQTTPacket

    func encode(data: MQTTPacket, out: inout ByteBuffer) throws {
        data.write(to: &out)
    }
}
