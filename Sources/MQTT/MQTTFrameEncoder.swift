// The server side's outbound framing: a packet is encoded into a buffer of its own size; a batch of publishes
// encoded already (a stream response's blocks) passes through as it is. Each packet is counted in `metrics`.
import NIOCore

/// What a server connection writes.
enum MQTTOutboundFrame {
    case packet(MQTTPacket)
    case publishes(PublishBatch)
}

final class MQTTFrameEncoder: ChannelOutboundHandler {
    typealias OutboundIn = MQTTOutboundFrame
    typealias OutboundOut = ByteBuffer
    let metrics: MQTTTrafficMetrics

    init(metrics: MQTTTrafficMetrics) {
        self.metrics = metrics
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer: ByteBuffer
        switch unwrapOutboundIn(data) {
        case .packet(let packet):
            var encoded = context.channel.allocator.buffer(capacity: packet.encodedSize)
            packet.write(to: &encoded)
            metrics.packetsSent.increment()
            buffer = encoded
        case .publishes(let batch):
            metrics.packetsSent.increment(by: batch.count)
            buffer = batch.buffer
        }
        metrics.bytesSent.increment(by: buffer.readableBytes)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }
}
