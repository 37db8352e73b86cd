import Foundation
import MQTT
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// A connection that sends raw bytes and records what comes back, for feeding a server malformed, partial or no
/// input: over TLS, or plain TCP when `tls` is nil (bytes that are not TLS, or nothing at all).
public final class RawConnection: @unchecked Sendable {
    private final class Recorder: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let keepsBytes: Bool
        let received = NIOLockedValueBox<[UInt8]>([])
        let receivedCount = NIOLockedValueBox(0)
        let closed = NIOLockedValueBox(false)
        let handshakeCompleted = NIOLockedValueBox(false)

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            receivedCount.withLockedValue { $0 += buffer.readableBytes }
            if keepsBytes { received.withLockedValue { $0 += buffer.readableBytesView } }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case TLSUserEvent.handshakeCompleted = event { handshakeCompleted.withLockedValue { $0 = true } }
            context.fireUserInboundEventTriggered(event)
        }

        init(keepsBytes: Bool) { self.keepsBytes = keepsBytes }

        func channelInactive(context: ChannelHandlerContext) {
            closed.withLockedValue { $0 = true }
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }

    private let channel: Channel
    private let recorder: Recorder

    /// Connects to 127.0.0.1:`port`, from `localHost` when given (any 127.x.y.z address: another source address on
    /// the same machine). `keepingBytes: false` only counts what arrives (a client that is sent megabytes).
    public convenience init(
        port: Int, tls: TLSConfiguration?, serverHostname: String? = nil, from localHost: String? = nil,
        keepingBytes: Bool = true
    ) async throws {
        try await self.init(
            port: port, context: try tls.map { try NIOSSLContext(configuration: $0) }, serverHostname: serverHostname,
            from: localHost, keepingBytes: keepingBytes)
    }

    /// The same with a TLS context made once for many connections.
    public init(
        port: Int, context: NIOSSLContext?, serverHostname: String? = nil, from localHost: String? = nil,
        keepingBytes: Bool = true
    ) async throws {
        let recorder = Recorder(keepsBytes: keepingBytes)
        self.recorder = recorder
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: context, serverHostname: serverHostname))
                    }
                    try channel.pipeline.syncOperations.addHandler(recorder)
                }
            }
        if let localHost { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: localHost, port: 0)) }
        channel = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
    }

    public func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
    }

    /// What arrived (empty when the connection does not keep bytes).
    public var received: [UInt8] { recorder.received.withLockedValue { $0 } }
    /// How many bytes arrived.
    public var receivedCount: Int { recorder.receivedCount.withLockedValue { $0 } }
    public var isClosed: Bool { recorder.closed.withLockedValue { $0 } }
    /// The TLS handshake finished (always false without TLS).
    public var isHandshakeCompleted: Bool { recorder.handshakeCompleted.withLockedValue { $0 } }

    /// The MQTT packets received so far.
    public var packets: [MQTTPacket] {
        var buffer = ByteBufferAllocator().buffer(bytes: received)
        var out: [MQTTPacket] = []
        while let packet = try? MQTTDecoder().decode(&buffer) { out.append(packet) }
        return out
    }

    public func close() async { try? await channel.close() }

    /// Sends `bytes` every `interval` from the connection's own event loop until it closes or the returned task is
    /// cancelled: a heartbeat that keeps its pace however busy the caller's threads are.
    public func sendRepeatedly(_ bytes: [UInt8], every interval: Duration) -> RepeatedTask {
        let channel = self.channel
        return channel.eventLoop.scheduleRepeatedTask(initialDelay: TimeAmount(interval), delay: TimeAmount(interval)) {
            task in
            guard channel.isActive else { return task.cancel() }
            channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
        }
    }

    /// Stops reading from the socket (a device that no longer takes what it is sent); what arrived stays recorded.
    public func stopReading() async throws {
        try await channel.setOption(.autoRead, value: false).get()
    }
}
