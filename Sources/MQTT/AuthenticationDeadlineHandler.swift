// A connection's deadlines before it authenticates: the TLS handshake must end within `tlsHandshakeTimeout` of the
// accept, and CONNECT must be accepted within `connectTimeout` of the handshake. Whatever stalls it (raw TCP that
// sends nothing, half a TLS record, a handshake and then silence, half a CONNECT), the connection is closed and
// counted; errors before authentication are logged at a limited rate too. It sits just before
// `MQTTServerConnection` and reads the CONNACK that connection writes: an accepted CONNECT is what "authenticated"
// means here, so the connection itself needs no hook. Once that CONNACK has passed, it leaves the pipeline.
import NIOCore
import NIOTLS

final class AuthenticationDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = MQTTPacket
    typealias InboundOut = MQTTPacket
    typealias OutboundIn = MQTTOutboundFrame
    typealias OutboundOut = MQTTOutboundFrame

    private enum Phase {
        case tlsHandshake
        case connect
        /// CONNECT accepted (the handler is then removed), or the channel closed: no deadline, no longer counted.
        case done
    }

    private let admission: ConnectionAdmission
    private let limits: MQTTAdmissionLimits
    /// Errors during the handshake (a refused certificate, a protocol error) count as failed handshakes.
    private let metrics: MQTTTrafficMetrics
    private let address: String
    private let peer: String
    private var phase: Phase
    private var deadline: Scheduled<Void>?

    /// `address` was admitted by `admission`; this handler releases it exactly once.
    init(
        admission: ConnectionAdmission, limits: MQTTAdmissionLimits, address: String, peer: String, usesTLS: Bool,
        metrics: MQTTTrafficMetrics
    ) {
        self.admission = admission
        self.limits = limits
        self.metrics = metrics
        self.address = address
        self.peer = peer
        self.phase = usesTLS ? .tlsHandshake : .connect
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, phase == .tlsHandshake {
            phase = .connect
            arm(context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .packet(.connack(_, .accepted)) = unwrapOutboundIn(data) else {
            return context.write(data, promise: promise)
        }
        finish()
        context.write(data, promise: promise)
        // Authenticated: nothing is left to watch, and every packet of the connection's life would pass through.
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// Before authentication, errors are what anyone can cause at will (a socket closed mid-handshake, bytes that
    /// are not TLS): they close the connection with a rate-limited log line rather than a line each.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard phase != .done else { return context.fireErrorCaught(error) }
        if phase == .tlsHandshake { metrics.tlsHandshakeFailures.increment() }
        admission.failed(error, peer: peer)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    /// (Re)starts the current phase's deadline.
    private func arm(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        let timeout: Duration
        let reason: MQTTShedReason
        switch phase {
        case .tlsHandshake: (timeout, reason) = (limits.tlsHandshakeTimeout, .tlsHandshakeTimeout)
        case .connect: (timeout, reason) = (limits.connectTimeout, .connectTimeout)
        case .done: return
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            let (handler, context) = loopBound.value
            guard handler.phase != .done else { return }
            handler.admission.shed(reason, peer: handler.peer)
            handler.finish()
            context.close(promise: nil)
        }
    }

    private func finish() {
        deadline?.cancel()
        deadline = nil
        guard phase != .done else { return }
        phase = .done
        admission.release(address: address)
    }
}
