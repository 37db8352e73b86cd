import MQTT
import NIOCore
import NIOPosix
import NIOSSL
import OTAWire

// The stream-serving load of `ota bench jobs`, generated as cheaply as the raw TLS baseline's client: MQTT framing
// only, counting the data PUBLISHes without decoding them, so that what is measured is the service, not a heavy
// client sharing the same two cores. Each device downloads the whole file in get/cbor requests of up to 32 blocks
// of 4 KiB, one request in flight, as an agent with a bitmap asks.

final class LeanDownloader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let thing: String
    let requestTopic: String
    let dataFilter: String
    let blockCount: Int
    let subscribed: EventLoopPromise<Void>
    private var finished: EventLoopPromise<Void>?
    private var context: ChannelHandlerContext?
    private var pending: ByteBuffer?
    private var received = 0
    private var target = 0

    init(thing: String, streamID: String, fileSize: Int, eventLoop: EventLoop) {
        self.thing = thing
        requestTopic = "$aws/things/\(thing)/streams/\(streamID)/get/cbor"
        dataFilter = "$aws/things/\(thing)/streams/\(streamID)/data/cbor"
        blockCount = (fileSize + 4095) / 4096
        subscribed = eventLoop.makePromise()
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        send(.connect(ConnectPacket(clientID: thing, cleanSession: true, keepAlive: 600)), flush: false)
        send(.subscribe(packetID: 1, subscriptions: [Subscription(filter: dataFilter, qos: .atMostOnce)]), flush: true)
        context.fireChannelActive()
    }

    /// Downloads the file once more; `finished` completes when every block arrived.
    func begin() -> EventLoopFuture<Void> {
        let eventLoop = subscribed.futureResult.eventLoop
        return eventLoop.flatSubmit {
            let finished = eventLoop.makePromise(of: Void.self)
            self.finished = finished
            self.received = 0
            self.target = 0
            self.requestNext()
            return finished.futureResult
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if pending == nil { pending = incoming } else { pending!.writeBuffer(&incoming) }
        while let type = nextFrameType() {
            switch type {
            case 9: subscribed.succeed()
            case 3:
                received += 1
                guard received == target else { break }
                if received == blockCount {
                    finished?.succeed()
                    finished = nil
                } else {
                    requestNext()
                }
            default: break
            }
        }
        if pending?.readableBytes == 0 { pending = nil }
    }

    func channelInactive(context: ChannelHandlerContext) {
        subscribed.fail(ChannelError.ioOnClosedChannel)
        finished?.fail(ChannelError.ioOnClosedChannel)
        finished = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        subscribed.fail(error)
        finished?.fail(error)
        finished = nil
        context.close(promise: nil)
    }

    /// Consumes one complete MQTT frame from `pending` and returns its packet type, or nil if none is complete.
    private func nextFrameType() -> UInt8? {
        guard var buffer = pending, let first: UInt8 = buffer.readInteger() else { return nil }
        var length = 0
        var shift = 0
        while true {
            guard let byte: UInt8 = buffer.readInteger(), shift <= 21 else { return nil }
            length |= Int(byte & 0x7F) << shift
            shift += 7
            if byte & 0x80 == 0 { break }
        }
        guard buffer.readableBytes >= length else { return nil }
        buffer.moveReaderIndex(forwardBy: length)
        pending = buffer
        return first >> 4
    }

    private func requestNext() {
        let count = min(32, blockCount - target)
        let request = StreamRequest(
            clientToken: "rdy", fileID: 0, blockSize: 4096, blockOffset: UInt64(target), numberOfBlocks: UInt64(count))
        target += count
        send(.publish(PublishPacket(topic: requestTopic, payload: request.cborEncoded)), flush: true)
    }

    private func send(_ packet: MQTTPacket, flush: Bool) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        packet.write(to: &buffer)
        if flush {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        } else {
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
    }

    /// Connects one downloader per device over mutual TLS and waits until each has subscribed.
    static func connect(
        devices: [(thing: String, context: NIOSSLContext)], port: Int, streamID: String, fileSize: Int
    ) async throws -> [(Channel, LeanDownloader)] {
        let group = MultiThreadedEventLoopGroup.singleton
        var connected: [(Channel, LeanDownloader)] = []
        for device in devices {
            let eventLoop = group.next()
            let downloader = LeanDownloader(
                thing: device.thing, streamID: streamID, fileSize: fileSize, eventLoop: eventLoop)
            let channel = try await ClientBootstrap(group: eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: device.context, serverHostname: "localhost"))
                        try channel.pipeline.syncOperations.addHandler(downloader)
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            try await downloader.subscribed.futureResult.get()
            connected.append((channel, downloader))
        }
        return connected
    }
}
