import Foundation
import MQTT
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A TLS connection that sends raw bytes and records what comes back, for feeding the server malformed input.
public final class RawConnection: @unchecked Sendable {
    private final class Recorder: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let received = NIOLockedValueBox<[UInt8]>([])
        let closed = NIOLockedValueBox(false)

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.withLockedValue { $0 += buffer.readableBytesView }
        }

        func channelInactive(context: ChannelHandlerContext) {
            closed.withLockedValue { $0 = true }
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }

    private let channel: Channel
    private let recorder = Recorder()

    public init(port: Int, tls: TLSConfiguration) async throws {
        let context = try NIOSSLContext(configuration: tls)
        let recorder = self.recorder
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(recorder)
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
    }

    public func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
    }

    public var received: [UInt8] { recorder.received.withLockedValue { $0 } }
    public var isClosed: Bool { recorder.closed.withLockedValue { $0 } }

    /// The packets received so far.
    public var packets: [MQTTPacket] {
        var buffer = ByteBufferAllocator().buffer(bytes: received)
        var out: [MQTTPacket] = []
        while let packet = try? MQTTDecoder().decode(&buffer) { out.append(packet) }
        return out
    }

    public func close() async { try? await channel.close() }

    /// Stops reading from the socket (a device that no longer takes what it is sent); what arrived stays recorded.
    public func stopReading() async throws {
        try await channel.setOption(.autoRead, value: false)
    }
}
