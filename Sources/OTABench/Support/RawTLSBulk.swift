import NIOCore
import NIOPosix
import NIOSSL

// The baseline of `ota bench jobs` and `ota bench fleet`: raw TLS bulk transfer on loopback with the same
// certificates, connections and bytes as the measured run — each client sends one byte, the server answers with
// `bytesPerConnection` bytes in 4 KiB writes. What any protocol over TLS could at best deliver here.

enum RawTLSBulk {
    /// Bytes per second received over all connections, from the first request to the last byte.
    static func throughput(
        serverContext: NIOSSLContext, clientContexts: [NIOSSLContext], bytesPerConnection: Int
    ) async throws -> Double {
        let group = MultiThreadedEventLoopGroup.singleton
        let chunk = ByteBuffer(repeating: 0x5A, count: 4096)
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: serverContext))
                    try channel.pipeline.syncOperations.addHandler(
                        BulkSender(total: bytesPerConnection, chunk: chunk))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let port = server.localAddress?.port ?? 0

        // Connect (and finish the handshakes) first, so the timing covers the transfer, as in the stream test.
        var clients: [(Channel, BulkReceiver)] = []
        for context in clientContexts {
            let receiver = BulkReceiver(total: bytesPerConnection, promise: group.next().makePromise())
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                        try channel.pipeline.syncOperations.addHandler(receiver)
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            clients.append((channel, receiver))
        }
        let start = ContinuousClock.now
        for (channel, _) in clients {
            channel.writeAndFlush(ByteBuffer(bytes: [1]), promise: nil)
        }
        for (_, receiver) in clients { try await receiver.promise.futureResult.get() }
        let elapsed = ContinuousClock.now - start
        for (channel, _) in clients { try? await channel.close() }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(bytesPerConnection * clientContexts.count) / seconds
    }
}

/// Sends `total` bytes in 4 KiB writes as fast as the connection takes them: writes while the channel is writable
/// and resumes when it becomes writable again, so memory stays bounded however many connections run at once.
private final class BulkSender: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let total: Int
    let chunk: ByteBuffer
    private var remaining = 0

    init(total: Int, chunk: ByteBuffer) {
        self.total = total
        self.chunk = chunk
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        remaining = total
        send(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { send(context: context) }
        context.fireChannelWritabilityChanged()
    }

    private func send(context: ChannelHandlerContext) {
        while remaining > 0, context.channel.isWritable {
            let length = min(chunk.readableBytes, remaining)
            context.write(wrapOutboundOut(chunk.getSlice(at: chunk.readerIndex, length: length)!), promise: nil)
            remaining -= length
            if remaining % (64 << 10) < length { context.flush() }  // a flush per 64 KiB keeps the socket busy
        }
        context.flush()
    }
}

private final class BulkReceiver: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let total: Int
    let promise: EventLoopPromise<Void>
    private var received = 0

    init(total: Int, promise: EventLoopPromise<Void>) {
        self.total = total
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        if received >= total { promise.succeed() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
