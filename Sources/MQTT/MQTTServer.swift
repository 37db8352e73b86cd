// The server side of the device gateway: MQTT 3.1.1 over mutual TLS (1.2 and 1.3) on SwiftNIO, plus an optional
// plain-TCP listener bound to loopback for local tooling. Client certificates must chain to the configured CAs,
// or, when `clientTrust` is set, satisfy it: its verdict at each handshake replaces the fixed CA list.
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

public struct MQTTServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port; `MQTTServer.start()` returns the one bound.
    public var port: Int
    /// Server certificate chain and key, and the CAs client certificates must chain to.
    public var tls: TLSIdentity
    /// Also listen without TLS on this loopback port (local tooling only; off when nil).
    public var plainLoopbackPort: Int?
    public var maximumPacketSize: Int
    /// QoS 1/2 messages queued per session: an offline persistent session drops the oldest past this; a connected
    /// client this far behind is disconnected.
    public var maximumQueuedMessages: Int
    /// QoS 1/2 messages sent to one client and not yet acknowledged; more wait in its queue.
    public var maximumInflightMessages: Int
    /// AWS IoT Core's limit of unacknowledged outbound messages per client. A smaller window caps what one client
    /// receives at a window per round trip: at 64, a subscriber fed by 100 publishers fell behind and its queue, not
    /// the network, set the latency (`ota bench mqtt`: QoS 1 p99 75–89 ms, against 11 ms at 100).
    public static let defaultMaximumInflightMessages = 100
    /// Retained messages kept, per client and in all.
    public var retainedLimits: RetainedLimits
    /// Bytes waiting to be sent to one client past which, as it does not read, it is disconnected. Reading from a
    /// client pauses already when 1 MiB waits (the write buffer's high-water mark).
    public var maximumBufferedBytes: Int
    /// Caller-supplied revocation check, asked at every CONNECT.
    public var isRevoked: @Sendable (ClientIdentity) -> Bool
    /// Decides on client certificates at every handshake instead of `tls.trustedClientCAs` (nil: the fixed CAs).
    public var clientTrust: (any ClientCertificateTrust)?
    /// Deadlines and caps for connections that have not authenticated yet.
    public var admission: MQTTAdmissionLimits
    /// How fast one connected client may send (nil: as fast as it likes, for local tooling and broker benches).
    public var inboundRate: InboundRateLimits?
    /// Packets, bytes and handshake failures, counted through the owner's swift-metrics factory.
    public var metrics: MQTTTrafficMetrics

    public struct TLSIdentity: Sendable {
        public var certificateChain: [NIOSSLCertificate]
        public var privateKey: NIOSSLPrivateKey
        public var trustedClientCAs: [NIOSSLCertificate]

        public init(
            certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey, trustedClientCAs: [NIOSSLCertificate]
        ) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
            self.trustedClientCAs = trustedClientCAs
        }

        /// Loads PEM files: the server chain, its key and the client CA bundle.
        public init(certificateChainPEM: String, privateKeyPEM: String, clientCAPEM: String) throws {
            certificateChain = try NIOSSLCertificate.fromPEMFile(certificateChainPEM)
            privateKey = try NIOSSLPrivateKey(file: privateKeyPEM, format: .pem)
            trustedClientCAs = try NIOSSLCertificate.fromPEMFile(clientCAPEM)
        }
    }

    public init(
        host: String = "0.0.0.0", port: Int = 8883, tls: TLSIdentity, plainLoopbackPort: Int? = nil,
        maximumPacketSize: Int = 256 * 1024, maximumQueuedMessages: Int = 1000,
        maximumInflightMessages: Int = defaultMaximumInflightMessages,
        retainedLimits: RetainedLimits = RetainedLimits(), maximumBufferedBytes: Int = 8 << 20,
        isRevoked: @escaping @Sendable (ClientIdentity) -> Bool = { _ in false },
        clientTrust: (any ClientCertificateTrust)? = nil, admission: MQTTAdmissionLimits = MQTTAdmissionLimits(),
        inboundRate: InboundRateLimits? = nil, metrics: MQTTTrafficMetrics = MQTTTrafficMetrics()
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.plainLoopbackPort = plainLoopbackPort
        self.maximumPacketSize = maximumPacketSize
        self.maximumQueuedMessages = maximumQueuedMessages
        self.maximumInflightMessages = maximumInflightMessages
        self.retainedLimits = retainedLimits
        self.maximumBufferedBytes = maximumBufferedBytes
        self.isRevoked = isRevoked
        self.clientTrust = clientTrust
        self.admission = admission
        self.inboundRate = inboundRate
        self.metrics = metrics
    }
}

/// What connections share.
final class MQTTServerCore: Sendable {
    let configuration: MQTTServerConfiguration
    let authorizer: any MQTTAuthorizer
    let requestHandler: (any MQTTRequestHandler)?
    let broker: MQTTBroker
    let admission: ConnectionAdmission
    let logger: Logger
    /// Connections ended before they authenticated, for reasons a client can produce at will (a refused
    /// certificate, too much sent before its verdict): rate-limited lines, like the shed ones.
    let preAuthenticationLog: RateLimitedLog

    init(
        configuration: MQTTServerConfiguration, authorizer: any MQTTAuthorizer,
        requestHandler: (any MQTTRequestHandler)?,
        logger: Logger
    ) {
        self.configuration = configuration
        self.authorizer = authorizer
        self.requestHandler = requestHandler
        self.broker = MQTTBroker(
            maximumQueuedMessages: configuration.maximumQueuedMessages,
            maximumInflightMessages: configuration.maximumInflightMessages,
            retainedLimits: configuration.retainedLimits, logger: logger)
        self.admission = ConnectionAdmission(limits: configuration.admission, logger: logger)
        self.logger = logger
        preAuthenticationLog = RateLimitedLog(logger: logger, interval: configuration.admission.shedLogInterval)
    }
}

public enum MQTTServerError: Error, CustomStringConvertible {
    case plainListenerNotLoopback(String)
    case notStarted

    public var description: String {
        switch self {
        case .plainListenerNotLoopback(let host):
            return "the plain-TCP listener binds to loopback only, not \(host)"
        case .notStarted:
            return "the server is not running"
        }
    }
}

public final class MQTTServer: Sendable {
    private let core: MQTTServerCore
    private let group: EventLoopGroup
    private let channels = NIOLockedValueBox<[Channel]>([])

    public init(
        configuration: MQTTServerConfiguration, authorizer: any MQTTAuthorizer = DeviceAuthorizer(),
        requestHandler: (any MQTTRequestHandler)? = nil, logger: Logger = Logger(label: "swiftota.mqtt"),
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        core = MQTTServerCore(
            configuration: configuration, authorizer: authorizer, requestHandler: requestHandler, logger: logger)
        self.group = group
    }

    /// Binds the TLS listener (and the plain loopback one when configured); returns the TLS port.
    @discardableResult
    public func start() async throws -> Int {
        let configuration = core.configuration
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: configuration.tls.certificateChain.map { .certificate($0) },
            privateKey: .privateKey(configuration.tls.privateKey))
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .noHostnameVerification  // a client certificate is required and verified
        tls.trustRoots = .certificates(configuration.tls.trustedClientCAs)
        let context = try NIOSSLContext(configuration: tls)
        let tlsChannel = try await bootstrap(tls: context).bind(host: configuration.host, port: configuration.port)
            .get()
        channels.withLockedValue { $0.append(tlsChannel) }
        if let plainPort = configuration.plainLoopbackPort {
            let loopback = configuration.host == "::1" ? "::1" : "127.0.0.1"
            let plain = try await bootstrap(tls: nil).bind(host: loopback, port: plainPort).get()
            channels.withLockedValue { $0.append(plain) }
        }
        core.logger.info("MQTT listening", metadata: ["port": "\(tlsChannel.localAddress?.port ?? 0)"])
        return tlsChannel.localAddress?.port ?? configuration.port
    }

    /// The bound port of the plain loopback listener, if any.
    public var plainPort: Int? {
        channels.withLockedValue { $0.count > 1 ? $0[1].localAddress?.port : nil }
    }

    private func bootstrap(tls: NIOSSLContext?) -> ServerBootstrap {
        let core = self.core
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(
                .writeBufferWaterMark, value: ChannelOptions.Types.WriteBufferWaterMark(low: 256 << 10, high: 1 << 20)
            )
            // Idle devices send a PINGREQ a minute: start reads small and let busy connections grow their buffers.
            .childChannelOption(
                .recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536)
            )
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    let peer = channel.remoteAddress.map { "\($0)" } ?? "?"
                    let address = channel.remoteAddress?.ipAddress ?? "?"
                    guard core.admission.admit(address: address, peer: peer) else {
                        return try sync.addHandler(CloseOnActiveHandler())
                    }
                    var verdict: ClientVerdictBox?
                    if let tls {
                        if let trust = core.configuration.clientTrust {
                            let box = ClientVerdictBox()
                            verdict = box
                            try sync.addHandler(
                                NIOSSLServerHandler(
                                    context: tls,
                                    customVerificationCallback: Self.verification(trust, box, logger: core.logger)))
                            try sync.addHandler(
                                ClientTrustGate(trust: trust, verdict: box, log: core.preAuthenticationLog))
                        } else {
                            try sync.addHandler(NIOSSLServerHandler(context: tls))
                        }
                    }
                    try sync.addHandler(
                        ByteToMessageHandler(
                            MQTTPacketDecoderHandler(
                                maximumPacketSize: core.configuration.maximumPacketSize,
                                metrics: core.configuration.metrics)))
                    try sync.addHandler(MQTTFrameEncoder(metrics: core.configuration.metrics))
                    try sync.addHandler(
                        AuthenticationDeadlineHandler(
                            admission: core.admission, limits: core.configuration.admission, address: address,
                            peer: peer, usesTLS: tls != nil, metrics: core.configuration.metrics))
                    try sync.addHandler(
                        MQTTServerConnection(
                            server: core, channel: channel, requiresCertificate: tls != nil, verdict: verdict))
                }
            }
    }

    /// The handshake's certificate check: the owner's verdict, remembered for CONNECT. Any error fails the handshake.
    private static func verification(
        _ trust: any ClientCertificateTrust, _ box: ClientVerdictBox, logger: Logger
    ) -> NIOSSLCustomVerificationCallback {
        { certificates, promise in
            let chain: [[UInt8]]
            do {
                chain = try certificates.map { try $0.toDERBytes() }
            } catch {
                box.value = .refused("unreadable client certificate: \(error)")
                return promise.succeed(.failed)
            }
            promise.completeWith(
                trust.evaluate(chain: chain, on: promise.futureResult.eventLoop).map { decision in
                    box.value = decision
                    switch decision {
                    case .trusted: return .certificateVerified
                    case .refused(let reason):
                        logger.warning("client certificate refused", metadata: ["reason": "\(reason)"])
                        return .failed
                    }
                })
        }
    }

    /// Routes a message to subscribers, as if a client had published it (for service-originated notifications).
    public func publish(_ message: PublishPacket) {
        core.broker.route(message)
    }

    /// Sends a message to one client's connection, whatever it subscribed to; false when it is not connected.
    @discardableResult
    public func deliver(toClientID clientID: String, topic: String, payload: [UInt8]) -> Bool {
        guard let connection = core.broker.connection(for: clientID) else { return false }
        connection.send([.publish(PublishPacket(topic: topic, payload: payload))])
        return true
    }

    public var connectedClientCount: Int { core.broker.connectedCount }

    /// Connections closed before they authenticated, by reason, since `start()`.
    public var shedCounts: MQTTShedCounts { core.admission.shedCounts }

    /// Connections accepted that have not yet had their CONNECT accepted.
    public var unauthenticatedConnectionCount: Int { core.admission.unauthenticatedCount }

    /// CONNECTs that took a session over from a connection that was still open.
    public var takeoverCount: Int { core.broker.takeoverCount }

    /// Connections closed because their client fell a whole message queue behind.
    public var queueOverflowCount: Int { core.broker.overflowCount }

    /// Retained messages not kept because a retained-message limit was reached.
    public var retainedRefusedCount: Int { core.broker.retainedRefusedCount }

    /// Whether `clientID` has a connection open to this server.
    public func isConnected(clientID: String) -> Bool { core.broker.connection(for: clientID) != nil }

    /// Closes the connection of `clientID`, if one is open (a revoked certificate's device, say).
    public func disconnect(clientID: String, reason: String) {
        core.broker.connection(for: clientID)?.close(reason: reason)
    }

    /// Connections closed because their client stopped reading what it was sent.
    public var slowConsumerCount: Int { core.broker.slowConsumerCount }

    /// Times a client sent faster than `inboundRate` allows and was not read for a while.
    public var pacedCount: Int { core.broker.pacedCount }

    /// The filters a client's session is subscribed to (empty once a clean session ended).
    public func subscriptionFilters(of clientID: String) -> Set<String> { core.broker.subscriptions(of: clientID) }

    public func stop() async {
        let bound = channels.withLockedValue { channels in
            defer { channels.removeAll() }
            return channels
        }
        for channel in bound { try? await channel.close() }
    }
}
