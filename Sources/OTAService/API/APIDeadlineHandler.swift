// The two API deadlines Hummingbird has no setting for: the TLS handshake must end within `tlsHandshakeTimeout`
// of the accept, and a request must be read whole within `requestTimeout` of its head. Added to each connection
// through `HTTP1Channel.Configuration.additionalChannelHandlers`, after the HTTP decoder: it sees request parts,
// and the handshake's user event on its way down the pipeline.
import NIOCore
import NIOHTTPTypes
import NIOTLS

final class APIDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let limits: APIConnectionLimits
    private let tally: APIShedTally
    private var deadline: Scheduled<Void>?
    private var handshakeDone = false

    init(limits: APIConnectionLimits, tally: APIShedTally) {
        self.limits = limits
        self.tally = tally
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context, limits.tlsHandshakeTimeout, .tlsHandshakeTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, !handshakeDone {
            handshakeDone = true
            cancel()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: arm(context, limits.requestTimeout, .requestTimeout)
        case .end: cancel()
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    private func arm(_ context: ChannelHandlerContext, _ timeout: Duration, _ reason: APIShedReason) {
        cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            let (handler, context) = loopBound.value
            handler.deadline = nil
            handler.tally.shed(reason, peer: context.channel.remoteAddress.map { "\($0)" } ?? "?")
            context.close(promise: nil)
        }
    }

    private func cancel() {
        deadline?.cancel()
        deadline = nil
    }
}
