// One client connection on the server: the CONNECT handshake, authorization, keep-alive, will, and the QoS
// flows. Runs on its channel's event loop; the broker calls `send` from any thread.
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

final class MQTTServerConnection: ChannelInboundHandler, MQTTConnectionEndpoint, @unchecked Sendable {
    typealias InboundIn = MQTTPacket
    typealias OutboundOut = MQTTOutboundFrame

    private let server: MQTTServerCore
    private let channel: Channel
    private let requiresCertificate: Bool
    /// The owner's verdict on the client certificate, when a `ClientCertificateTrust` decides (nil otherwise).
    private let verdict: ClientVerdictBox?
    private var logger: Logger
    // Touched only on the channel's event loop.
    private var lifecycle = ConnectionLifecycle()
    private var will: Will?
    private var identity: ClientIdentity?
    private var session: MQTTSessionContext?
    /// What `send` was given and the event loop has not written yet, in order: every message the broker routes or
    /// releases to this client and what the service delivers, whichever thread sends it. The connection's own answers
    /// (CONNACK, SUBACK, acknowledgements) are written directly on the loop.
    private let outbox = NIOLockedValueBox((frames: [MQTTOutboundFrame](), writeScheduled: false))
    /// Set once this connection is being closed for not reading: what is sent meanwhile is dropped, counted once.
    private var closingSlowConsumer = false
    /// The client's inbound budget, once it is connected (nil when the server sets no rate).
    private var pacer: InboundPacer?
    /// Reads are paused until the client's inbound debt is paid; packets of the last read wait meanwhile.
    private var pausedForPacing = false
    /// Starts with one slot: packets are held only while a client is paced, and the default sixteen slots cost every
    /// idle connection 1.4 KiB (heaptrack, `ota bench mqtt`).
    private var held = CircularBuffer<MQTTPacket>(initialCapacity: 1)

    init(server: MQTTServerCore, channel: Channel, requiresCertificate: Bool, verdict: ClientVerdictBox? = nil) {
        self.server = server
        self.channel = channel
        self.requiresCertificate = requiresCertificate
        self.verdict = verdict
        var logger = server.logger
        logger[metadataKey: "peer"] = "\(channel.remoteAddress.map { "\($0)" } ?? "?")"
        self.logger = logger
    }

    // MARK: MQTTConnectionEndpoint (any thread)

    func send(_ packets: [MQTTPacket]) {
        guard !packets.isEmpty else { return }
        post(packets.map(MQTTOutboundFrame.packet))
    }

    func send(_ batch: PublishBatch) {
        guard !batch.isEmpty else { return }
        post([.publishes(batch)])
    }

    /// Appends to the outbox, in the order of the calls, and has the event loop write it unless a write of the
    /// outbox is already on its way. One hop to the loop carries everything sent meanwhile.
    private func post(_ frames: [MQTTOutboundFrame]) {
        let scheduleWrite = outbox.withLockedValue { outbox -> Bool in
            outbox.frames.append(contentsOf: frames)
            defer { outbox.writeScheduled = true }
            return !outbox.writeScheduled
        }
        if scheduleWrite {
            channel.eventLoop.execute { [self] in
                writeOutbox()
                channel.flush()
            }
        }
    }

    /// Writes what the outbox holds, unless the client has stopped reading what it is sent (on the event loop). The
    /// buffered-bytes limit is checked once per batch, so a client may pass it by one batch before it is closed.
    private func writeOutbox() {
        let frames = outbox.withLockedValue { outbox -> [MQTTOutboundFrame] in
            outbox.writeScheduled = false
            defer { outbox.frames = [] }
            return outbox.frames
        }
        guard !frames.isEmpty, channel.isActive, !closingSlowConsumer else { return }
        if !channel.isWritable, let buffered = try? channel.syncOptions?.getOption(.bufferedWritableBytes),
            buffered > server.configuration.maximumBufferedBytes
        {
            closingSlowConsumer = true
            // Reads stopped when the buffer passed its high-water mark (see channelWritabilityChanged); what was
            // already read still produces answers. A client this far behind does not read: end it, or its answers
            // would grow without bound.
            server.broker.countSlowConsumer()
            logger.warning("closing connection", metadata: ["reason": "the client does not read what it is sent"])
            channel.close(promise: nil)
            return
        }
        for frame in frames { channel.write(frame, promise: nil) }
    }

    func close(reason: String) {
        channel.eventLoop.execute { [self] in
            logger.info("closing connection", metadata: ["reason": "\(reason)"])
            channel.close(promise: nil)
        }
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let packet = unwrapInboundIn(data)
        if lifecycle.awaitsConnect {
            guard case .connect(let connect) = packet else {
                return refuse(context, "\(packet.name) before CONNECT (§3.1.0-1)")
            }
            handleConnect(connect, context: context)
        } else if let clientID = lifecycle.clientID {
            // One socket read can hold thousands of small packets: those after the budget ran out wait here.
            guard !pausedForPacing else { return held.append(packet) }
            handle(packet, clientID: clientID, context: context)
            pace(packet, context: context)
        }
    }

    /// Charges the packet to the client's budget; past it, stops reading the client until the debt is paid.
    private func pace(_ packet: MQTTPacket, context: ChannelHandlerContext) {
        guard let wait = pacer?.charge(packet), wait > .zero else { return }
        pausedForPacing = true
        server.broker.countPaced()
        updateReading(context)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: TimeAmount(wait)) {
            let (connection, context) = loopBound.value
            connection.resumeAfterPacing(context)
        }
    }

    /// The debt is paid: handles what was held back (until the budget runs out again), then reads again.
    private func resumeAfterPacing(_ context: ChannelHandlerContext) {
        pausedForPacing = false
        guard context.channel.isActive, let clientID = lifecycle.clientID else { return }
        while !pausedForPacing, !held.isEmpty {
            let packet = held.removeFirst()
            handle(packet, clientID: clientID, context: context)
            pace(packet, context: context)
        }
        context.flush()
        updateReading(context)
    }

    /// Reads while the client takes what it is sent and is within its inbound budget.
    private func updateReading(_ context: ChannelHandlerContext) {
        context.channel.setOption(.autoRead, value: context.channel.isWritable && !pausedForPacing)
            .whenFailure { _ in }
    }

    private func handle(_ packet: MQTTPacket, clientID: String, context: ChannelHandlerContext) {
        let broker = server.broker
        switch packet {
        case .connect:
            refuse(context, "second CONNECT (§3.1.0-2)")
        case .publish(let publish):
            handlePublish(publish, clientID: clientID, context: context)
        case .puback(let id):
            // Released messages go to the outbox (under the session's lock, behind every message offered before
            // them) and are written now, not a loop turn later: the next message in flight should not wait for the
            // other connections' reads, or the in-flight window, not the connection, sets the pace. This read's end
            // flushes them.
            broker.acknowledge(clientID: clientID, puback: id)
            writeOutbox()
        case .pubrec(let id):
            broker.acknowledge(clientID: clientID, pubrec: id)
            writePacket(.pubrel(packetID: id), context)
        case .pubrel(let id):
            broker.release(clientID: clientID, id: id)
            writePacket(.pubcomp(packetID: id), context)
        case .pubcomp(let id):
            broker.acknowledge(clientID: clientID, pubcomp: id)
            writeOutbox()
        case .subscribe(let id, let subscriptions):
            var codes: [SubscribeReturnCode] = []
            var accepted: [Subscription] = []
            for subscription in subscriptions {
                let verdict: Authorization =
                    Topic.levelCount(subscription.filter) > Topic.maximumFilterLevels
                    ? .refused("more than \(Topic.maximumFilterLevels) levels in the filter")
                    : server.authorizer.authorizeSubscribe(
                        identity: identity, clientID: clientID, filter: subscription.filter)
                switch verdict {
                case .allowed:
                    codes.append(.granted(subscription.qos))
                    accepted.append(subscription)
                case .refused(let reason):
                    logger.warning("subscription refused", metadata: ["client": "\(clientID)", "reason": "\(reason)"])
                    codes.append(.failure)
                }
            }
            logger.debug(
                "subscribe",
                metadata: [
                    "filters": "\(subscriptions.map(\.filter).joined(separator: " "))",
                    "granted": "\(codes.map { "\($0)" }.joined(separator: " "))",
                ])
            // The retained messages it matches go to the outbox, written after the SUBACK below.
            broker.subscribe(clientID: clientID, accepted)
            writePacket(.suback(packetID: id, returnCodes: codes), context)
        case .unsubscribe(let id, let filters):
            logger.debug("unsubscribe", metadata: ["filters": "\(filters.joined(separator: " "))"])
            broker.unsubscribe(clientID: clientID, filters)
            writePacket(.unsuback(packetID: id), context)
        case .pingreq:
            writePacket(.pingresp, context)
        case .disconnect:
            // §3.14.4: the will is discarded; the session is detached when the channel is inactive, as for any end.
            will = nil
            lifecycle.receivedDisconnect()
            context.close(promise: nil)
        case .connack, .suback, .unsuback, .pingresp:
            refuse(context, "\(packet.name) is sent by servers only")
        }
    }

    private func handleConnect(_ connect: ConnectPacket, context: ChannelHandlerContext) {
        guard connect.protocolLevel == ConnectPacket.protocolLevel else {
            return reject(
                context, .unacceptableProtocolVersion, "protocol level \(connect.protocolLevel), only 4 is served")
        }
        if connect.clientID.isEmpty && !connect.cleanSession {
            return reject(context, .identifierRejected, "empty client id with a persistent session (§3.1.3-8)")
        }
        identity = peerIdentity(context)
        if requiresCertificate && identity == nil {
            return reject(context, .notAuthorized, "no verified client certificate")
        }
        if let verdict {
            // The gate holds every byte until there is a verdict; a missing one here is a bug: fail closed.
            guard case .trusted(let boundName)? = verdict.value else {
                return reject(context, .notAuthorized, "the client certificate has no trust verdict")
            }
            identity?.boundName = boundName
        }
        if let identity, server.configuration.isRevoked(identity) {
            return reject(context, .notAuthorized, "certificate \(identity.serialNumber.hexString) is revoked")
        }
        if case .refused(let reason) = server.authorizer.authorizeConnect(identity: identity, connect: connect) {
            return reject(context, .notAuthorized, reason)
        }
        let clientID =
            connect.clientID.isEmpty ? "auto-" + String(UInt64.random(in: 0...UInt64.max), radix: 36) : connect.clientID
        if let will = connect.will,
            case .refused(let reason) = server.authorizer.authorizePublish(
                identity: identity, clientID: clientID, topic: will.topic)
        {
            return reject(context, .notAuthorized, "will topic refused: \(reason)")
        }
        will = connect.will
        pacer = server.configuration.inboundRate.map(InboundPacer.init)
        logger[metadataKey: "client"] = "\(clientID)"
        lifecycle.accepted(clientID: clientID)
        if connect.keepAlive > 0 {
            // §3.1.2.10: close after one and a half keep-alive periods without a packet.
            let timeout = TimeAmount.milliseconds(Int64(connect.keepAlive) * 1500)
            try? context.pipeline.syncOperations.addHandler(
                IdleReadTimeoutHandler(timeout: timeout), position: .before(self))
        }
        let (sessionPresent, replaced, resend) = server.broker.attach(
            clientID: clientID, cleanSession: connect.cleanSession, connection: self)
        if let replaced {
            replaced.close(reason: "session taken over by a new connection with the same client id")
        }
        writePacket(.connack(sessionPresent: sessionPresent, returnCode: .accepted), context)
        for packet in resend { writePacket(packet, context) }
        context.flush()
        let session = MQTTSessionContext(clientID: clientID, identity: identity, endpoint: self)
        self.session = session
        logger.info(
            "connected",
            metadata: [
                "clean": "\(connect.cleanSession)", "keepAlive": "\(connect.keepAlive)",
                "takeover": "\(replaced != nil)",
            ])
        server.requestHandler?.sessionConnected(session)
    }

    private func handlePublish(_ publish: PublishPacket, clientID: String, context: ChannelHandlerContext) {
        if case .refused(let reason) = server.authorizer.authorizePublish(
            identity: identity, clientID: clientID, topic: publish.topic)
        {
            return refuse(context, "forbidden publish: \(reason)")
        }
        var deliver = true
        switch publish.qos {
        case .atMostOnce: break
        case .atLeastOnce:
            writePacket(.puback(packetID: publish.packetID!), context)
        case .exactlyOnce:
            deliver = server.broker.receiveQoS2(clientID: clientID, id: publish.packetID!)
            writePacket(.pubrec(packetID: publish.packetID!), context)
        }
        guard deliver else { return }
        if let session, server.requestHandler?.handle(publish, from: session) == true { return }
        server.broker.route(publish, from: clientID)
    }

    /// Replies to everything one read brought in go out together.
    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleReadTimeoutHandler.Expired {
            logger.info("keep-alive expired; closing")
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Back-pressure: while the client does not take what it is sent, it is not read either, so its requests stop
    /// producing answers (the kernel's buffers and then TCP hold them back).
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        updateReading(context)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let ending = lifecycle.channelClosed() {
            if ending.publishWill, let will {
                logger.info("connection lost; publishing will", metadata: ["topic": "\(will.topic)"])
                server.broker.route(
                    PublishPacket(topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain))
            }
            // After a takeover the session belongs to the new connection: neither the broker nor the request
            // handler may detach it on behalf of this one.
            let owned = server.broker.detach(clientID: ending.clientID, connection: self)
            if let session { server.requestHandler?.sessionDisconnected(session) }
            // The context names this connection as its endpoint: kept, it would keep the connection, its channel
            // and their buffers alive for ever (a leak of every closed connection, found by heaptrack).
            session = nil
            logger.info(
                ending.publishWill ? "connection lost" : "disconnected",
                metadata: ["sessionTakenOver": "\(!owned)"])
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        refuse(context, "\(error)")
    }

    // MARK: Helpers

    private func writePacket(_ packet: MQTTPacket, _ context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.packet(packet)), promise: nil)
    }

    /// Answers CONNECT with a refusal code, then closes (§3.2.2.3).
    private func reject(_ context: ChannelHandlerContext, _ code: ConnectReturnCode, _ reason: String) {
        logger.warning("connection refused", metadata: ["code": "\(code)", "reason": "\(reason)"])
        lifecycle.refused()
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.packet(.connack(sessionPresent: false, returnCode: code)))).whenComplete
        { _ in
            bound.value.close(promise: nil)
        }
    }

    /// Closes without a word, as §4.8 asks for protocol violations. A connected session stays `.connected` until
    /// channelInactive, which publishes its will: a violation is an abnormal end.
    private func refuse(_ context: ChannelHandlerContext, _ reason: String) {
        switch lifecycle.state {
        case .closed, .disconnecting: break
        case .awaitingConnect, .connected:
            logger.warning("closing connection", metadata: ["reason": "\(reason)"])
        }
        lifecycle.refused()
        context.close(promise: nil)
    }

    private func peerIdentity(_ context: ChannelHandlerContext) -> ClientIdentity? {
        guard let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
            let certificate = handler.peerCertificate, let der = try? certificate.toDERBytes()
        else { return nil }
        return ClientIdentity(certificateDER: der)
    }
}

/// Fires `Expired` when nothing was read for `timeout`; reset by every read.
final class IdleReadTimeoutHandler: ChannelInboundHandler {
    typealias InboundIn = NIOAny
    struct Expired {}

    private let timeout: TimeAmount
    private var scheduled: Scheduled<Void>?
    /// Reads only move this; the one timer, when it fires, re-arms itself for what is left. Re-scheduling on every
    /// packet cost a timer-heap update and an allocation per read — a few per cent of the service under load.
    private var lastRead = NIODeadline.now()

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        lastRead = .now()
        arm(context, at: lastRead + timeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) { scheduled?.cancel() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        scheduled?.cancel()
        context.fireChannelInactive()
    }

    private func arm(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        scheduled = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            let expiry = handler.lastRead + handler.timeout
            if expiry <= .now() {
                context.fireUserInboundEventTriggered(Expired())
            } else {
                handler.arm(context, at: expiry)
            }
        }
    }
}

extension Array where Element == UInt8 {
    var hexString: String {
        map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
