// Holds a connection's decrypted bytes until the client certificate has a verdict. A full handshake gets its
// verdict from the verification callback before any application data can arrive; a resumed TLS session (BoringSSL
// keeps a session cache and tickets on by default) skips the callback, so the certificate the session remembers is
// judged here against the current trust: a certificate revoked, or a CA deactivated, since the first handshake is
// refused too.
import NIOCore
import NIOSSL

final class ClientTrustGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// A client that sends this much before its verdict is not waiting for a CONNACK: it is dropped.
    static let maximumHeldBytes = 64 * 1024

    private enum State {
        /// Nothing read yet: TLS delivers application data only after the handshake.
        case awaitingFirstRead
        /// A resumed session's certificate is being judged.
        case judging
        case open
    }

    private let trust: any ClientCertificateTrust
    private let verdict: ClientVerdictBox
    private let log: RateLimitedLog
    private var state = State.awaitingFirstRead
    private var held: [ByteBuffer] = []
    private var heldBytes = 0

    init(trust: any ClientCertificateTrust, verdict: ClientVerdictBox, log: RateLimitedLog) {
        self.trust = trust
        self.verdict = verdict
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state != .open else { return context.fireChannelRead(data) }
        let bytes = unwrapInboundIn(data)
        heldBytes += bytes.readableBytes
        guard heldBytes <= Self.maximumHeldBytes else {
            log.warning(
                "closing connection", key: "sent before verdict",
                metadata: ["reason": "sent too much before its certificate's verdict"])
            return context.close(promise: nil)
        }
        held.append(bytes)
        guard state == .awaitingFirstRead else { return }
        switch verdict.value {
        case .trusted?: open(context)
        case .refused?: context.close(promise: nil)  // the handshake should have failed already; fail closed
        case nil:
            state = .judging
            judgeResumedSession(context)
        }
    }

    private func judgeResumedSession(_ context: ChannelHandlerContext) {
        guard let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
            let leaf = try? tls.peerCertificate?.toDERBytes()
        else {
            verdict.value = .refused("no client certificate in the resumed TLS session")
            return context.close(promise: nil)
        }
        // Only the leaf survives in the session: a chain through an unregistered intermediate fails closed here, and
        // the device's next full handshake presents the whole chain again.
        let trust = trust
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        trust.evaluate(chain: [leaf], on: context.eventLoop).whenComplete { result in
            let (gate, context) = loopBound.value
            let decision = (try? result.get()) ?? .refused("the trust evaluation failed")
            gate.verdict.value = decision
            switch decision {
            case .trusted: gate.open(context)
            case .refused(let reason):
                gate.log.warning(
                    "client certificate refused", key: "certificate refused", metadata: ["reason": "\(reason)"])
                context.close(promise: nil)
            }
        }
    }

    /// Passes on what was held, in order, and leaves the pipeline: later reads cost nothing.
    private func open(_ context: ChannelHandlerContext) {
        state = .open
        let pending = held
        held = []
        for bytes in pending { context.fireChannelRead(wrapInboundOut(bytes)) }
        context.fireChannelReadComplete()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
