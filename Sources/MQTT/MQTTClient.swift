// An async/await MQTT 3.1.1 client over TLS (with a client certificate) or plain TCP, with keep-alive pings,
// reconnect with exponential backoff and jitter, and QoS 1/2 redelivery after a reconnect. Used by the
// simulator and the CLI.
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A server address: one instance of the service, or the load balancer in front of several.
public struct MQTTEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `HOST:PORT` (an IPv6 literal in brackets: `[::1]:8883`); nil when it is not one.
    public init?(parsing text: some StringProtocol) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65_535).contains(port)
        else { return nil }
        var host = text[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty, !host.contains(where: { $0 == "/" || $0 == "[" || $0 == "]" || $0.isWhitespace }) else {
            return nil
        }
        self.init(host: String(host), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

public struct MQTTClientConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Further servers, for several instances without a load balancer in front: when connecting to one fails
    /// (refused, unreachable, closed before CONNACK), the next attempt goes to the next, round the list.
    public var alternateEndpoints: [MQTTEndpoint] = []
    /// nil: plain TCP (only sensible on loopback).
    public var tls: TLSConfiguration?
    /// Name for SNI and certificate checks; defaults to `host`.
    public var serverName: String?
    public var connect: ConnectPacket
    public var reconnect: ReconnectPolicy?
    public var maximumPacketSize: Int
    /// A context built once and shared by many clients (load generators, fleets); overrides `tls`.
    public var sslContext: NIOSSLContext?

    public init(
        host: String, port: Int, tls: TLSConfiguration?, serverName: String? = nil, connect: ConnectPacket,
        reconnect: ReconnectPolicy? = nil, maximumPacketSize: Int = 1024 * 1024
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.serverName = serverName
        self.connect = connect
        self.reconnect = reconnect
        self.maximumPacketSize = maximumPacketSize
    }

    /// `host:port` first, then the alternates.
    public var endpoints: [MQTTEndpoint] { [MQTTEndpoint(host: host, port: port)] + alternateEndpoints }

    /// Mutual TLS: our certificate chain and key, the CA that signed the server's certificate.
    public static func mutualTLS(
        certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey, trustedServerCAs: [NIOSSLCertificate]
    ) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateChain = certificateChain.map { .certificate($0) }
        tls.privateKey = .privateKey(privateKey)
        tls.trustRoots = .certificates(trustedServerCAs)
        return tls
    }
}

/// Delay before reconnect attempt n (from 0): initial × multiplierⁿ, capped, with ±jitter spread.
public struct ReconnectPolicy: Sendable {
    public var initialDelay: Duration
    public var maximumDelay: Duration
    public var multiplier: Double
    /// 0 = none, 0.5 = the delay varies by ±50%; spreads a fleet's reconnects after an outage.
    public var jitter: Double

    public init(
        initialDelay: Duration = .milliseconds(200), maximumDelay: Duration = .seconds(30), multiplier: Double = 2,
        jitter: Double = 0.5
    ) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.multiplier = multiplier
        self.jitter = jitter
    }

    public func delay(attempt: Int, using random: inout some RandomNumberGenerator) -> Duration {
        let base = min(seconds(initialDelay) * pow2(multiplier, attempt), seconds(maximumDelay))
        let spread = jitter > 0 ? Double.random(in: -jitter...jitter, using: &random) : 0
        return .milliseconds(Int64(max(0, base * (1 + spread)) * 1000))
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private func pow2(_ base: Double, _ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<min(exponent, 64) { result *= base }
        return result
    }
}

public enum MQTTClientError: Error, Equatable, CustomStringConvertible {
    case connectionRefused(ConnectReturnCode)
    case notConnected
    case connectionLost
    case unexpectedPacket(String)

    public var description: String {
        switch self {
        case .connectionRefused(let code): return "the server refused the connection: \(code)"
        case .notConnected: return "not connected"
        case .connectionLost: return "the connection was lost before the server answered"
        case .unexpectedPacket(let name): return "the server sent an unexpected \(name)"
        }
    }
}

public final class MQTTClient: Sendable {
    private struct State {
        var channel: Channel?
        /// CONNACK accepted and the session resumed (subscriptions restored, unacknowledged messages resent).
        var ready = false
        var connack: CheckedContinuation<Bool, Error>?
        /// Waiting for SUBACK, UNSUBACK, PUBACK or PUBCOMP, by packet id.
        var waiting: [UInt16: CheckedContinuation<MQTTPacket, Error>] = [:]
        /// Our QoS 1/2 publishes not yet acknowledged: resent with DUP after a reconnect.
        var unacknowledged: [UInt16: PublishPacket] = [:]
        var receivedQoS2: Set<UInt16> = []
        var subscriptions: [Subscription] = []
        var lastPacketID: UInt16 = 0
        var closedByUser = false
        var reconnectAttempt = 0
        /// Which of `configuration.endpoints` the next connection goes to.
        var endpointIndex = 0

        mutating func nextPacketID() -> UInt16 {
            repeat {
                lastPacketID = lastPacketID == .max ? 1 : lastPacketID + 1
            } while waiting[lastPacketID] != nil || unacknowledged[lastPacketID] != nil
            return lastPacketID
        }
    }

    public let configuration: MQTTClientConfiguration
    /// Every PUBLISH the server sends, in order.
    public let messages: AsyncStream<PublishPacket>
    private let continuation: AsyncStream<PublishPacket>.Continuation
    private let state = NIOLockedValueBox(State())
    private let group: EventLoopGroup
    private let logger: Logger

    public init(
        configuration: MQTTClientConfiguration, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "swiftota.mqtt.client")
    ) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        (messages, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// The server the current (or next) connection goes to.
    public var endpoint: MQTTEndpoint {
        let endpoints = configuration.endpoints
        return endpoints[state.withLockedValue { $0.endpointIndex } % endpoints.count]
    }

    /// True once CONNACK was accepted and the session resumed, until the connection closes.
    public var isConnected: Bool { state.withLockedValue { $0.ready && ($0.channel?.isActive ?? false) } }

    /// Connects and waits for CONNACK; returns the session-present flag.
    @discardableResult
    public func connect() async throws -> Bool {
        do {
            return try await connectOnce()
        } catch {
            // This server is gone or refusing: the next attempt tries the next one (a no-op with only one).
            state.withLockedValue { $0.endpointIndex = ($0.endpointIndex + 1) % configuration.endpoints.count }
            throw error
        }
    }

    private func connectOnce() async throws -> Bool {
        state.withLockedValue { $0.closedByUser = false }
        let channel = try await openChannel()
        let sessionPresent = try await withCheckedThrowingContinuation { (connack: CheckedContinuation<Bool, Error>) in
            // The connection may already have closed (a refused TLS handshake): `closed` then found no waiter to
            // fail, so fail this one here instead of waiting forever.
            let live = state.withLockedValue { state -> Bool in
                guard state.channel === channel else { return false }
                state.connack = connack
                return true
            }
            guard live else {
                connack.resume(throwing: MQTTClientError.connectionLost)
                return
            }
            channel.writeAndFlush(MQTTPacket.connect(configuration.connect), promise: nil)
        }
        state.withLockedValue { $0.reconnectAttempt = 0 }
        startKeepAlive(on: channel)
        try await resume(sessionPresent: sessionPresent)
        state.withLockedValue { $0.ready = $0.channel === channel }
        return sessionPresent
    }

    public func subscribe(_ subscriptions: [Subscription]) async throws -> [SubscribeReturnCode] {
        let reply = try await request { id in .subscribe(packetID: id, subscriptions: subscriptions) }
        guard case .suback(_, let codes) = reply else { throw MQTTClientError.unexpectedPacket(reply.name) }
        state.withLockedValue { state in
            for (subscription, code) in zip(subscriptions, codes) where code != .failure {
                state.subscriptions.removeAll { $0.filter == subscription.filter }
                state.subscriptions.append(subscription)
            }
        }
        return codes
    }

    public func unsubscribe(_ filters: [String]) async throws {
        _ = try await request { id in .unsubscribe(packetID: id, filters: filters) }
        state.withLockedValue { state in state.subscriptions.removeAll { filters.contains($0.filter) } }
    }

    /// QoS 0 returns once written; QoS 1 after PUBACK; QoS 2 after PUBCOMP. Survives reconnects when enabled.
    public func publish(_ message: PublishPacket) async throws {
        guard message.qos != .atMostOnce else {
            guard let channel = state.withLockedValue({ $0.channel }), channel.isActive else {
                throw MQTTClientError.notConnected
            }
            var copy = message
            copy.packetID = nil
            try await channel.writeAndFlush(MQTTPacket.publish(copy))
            return
        }
        _ = try await request(remember: true) { id in
            var copy = message
            copy.packetID = id
            return .publish(copy)
        }
    }

    public func publish(topic: String, payload: [UInt8], qos: QoS = .atMostOnce, retain: Bool = false) async throws {
        try await publish(PublishPacket(topic: topic, payload: payload, qos: qos, retain: retain))
    }

    /// Sends DISCONNECT (the will is discarded) and closes; no reconnect follows.
    public func disconnect() async {
        let channel = state.withLockedValue { state -> Channel? in
            state.closedByUser = true
            return state.channel
        }
        guard let channel, channel.isActive else { return }
        try? await channel.writeAndFlush(MQTTPacket.disconnect)
        try? await channel.close()
    }

    /// Closes the socket without DISCONNECT, as a power cut would (the server then publishes the will).
    public func dropConnection() async {
        let channel = state.withLockedValue { $0.channel }
        try? await channel?.close()
    }

    /// Ends the `messages` stream; call when the client is no longer used.
    public func finish() {
        continuation.finish()
    }

    // MARK: Internals

    private func openChannel() async throws -> Channel {
        let sslContext = try configuration.sslContext ?? configuration.tls.map { try NIOSSLContext(configuration: $0) }
        let endpoint = endpoint
        let serverName = configuration.serverName ?? endpoint.host
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let sslContext {
                        // SNI only for names; IP literals are checked against the certificate's IP SANs.
                        let isAddress = serverName.contains(":") || serverName.allSatisfy { $0.isNumber || $0 == "." }
                        try sync.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: isAddress ? nil : serverName))
                    }
                    try sync.addHandler(
                        ByteToMessageHandler(
                            MQTTPacketDecoderHandler(maximumPacketSize: configuration.maximumPacketSize)))
                    try sync.addHandler(MessageToByteHandler(MQTTPacketEncoderHandler()))
                    try sync.addHandler(MQTTClientHandler(client: self))
                }
            }
        let channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
        state.withLockedValue { $0.channel = channel }
        // A connection that closed before it was recorded (a refused handshake) was not seen by `closed`.
        guard channel.isActive else {
            state.withLockedValue { state in if state.channel === channel { state.channel = nil } }
            throw MQTTClientError.connectionLost
        }
        return channel
    }

    /// After CONNACK: re-subscribe when the server kept nothing, and resend what was not acknowledged.
    private func resume(sessionPresent: Bool) async throws {
        let (subscriptions, resend) = state.withLockedValue { state in
            (state.subscriptions, state.unacknowledged.sorted { $0.key < $1.key }.map(\.value))
        }
        guard let channel = state.withLockedValue({ $0.channel }) else { return }
        for var message in resend {
            message.duplicate = true
            channel.write(MQTTPacket.publish(message), promise: nil)
        }
        channel.flush()
        if !sessionPresent && !subscriptions.isEmpty {
            _ = try await subscribe(subscriptions)
        }
    }

    private func request(remember: Bool = false, _ make: (UInt16) -> MQTTPacket) async throws -> MQTTPacket {
        try await withCheckedThrowingContinuation { (reply: CheckedContinuation<MQTTPacket, Error>) in
            let (channel, packet) = state.withLockedValue { state -> (Channel?, MQTTPacket) in
                let id = state.nextPacketID()
                let packet = make(id)
                state.waiting[id] = reply
                if remember, case .publish(let message) = packet { state.unacknowledged[id] = message }
                return (state.channel, packet)
            }
            // Unacknowledged publishes go out again after a reconnect; other requests need a live connection.
            guard let channel, channel.isActive else {
                if !remember || configuration.reconnect == nil { fail(packet, with: MQTTClientError.notConnected) }
                return
            }
            channel.writeAndFlush(packet, promise: nil)
        }
    }

    private func fail(_ packet: MQTTPacket, with error: Error) {
        let id: UInt16? =
            switch packet {
            case .subscribe(let id, _), .unsubscribe(let id, _): id
            case .publish(let message): message.packetID
            default: nil
            }
        guard let id else { return }
        let waiter = state.withLockedValue { state in
            state.unacknowledged[id] = nil
            return state.waiting.removeValue(forKey: id)
        }
        waiter?.resume(throwing: error)
    }

    private func startKeepAlive(on channel: Channel) {
        let seconds = Int64(configuration.connect.keepAlive)
        guard seconds > 0 else { return }
        // Ping at 3/4 of the keep-alive so the server's 1.5x timer never comes close.
        let interval = TimeAmount.milliseconds(seconds * 750)
        let task = channel.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { task in
            guard channel.isActive else { return task.cancel() }
            channel.writeAndFlush(MQTTPacket.pingreq, promise: nil)
        }
        channel.closeFuture.whenComplete { _ in task.cancel() }
    }

    // Called by MQTTClientHandler on the event loop.

    func received(_ packet: MQTTPacket, on channel: Channel) {
        switch packet {
        case .connack(let sessionPresent, let code):
            let waiter = state.withLockedValue { state in
                defer { state.connack = nil }
                return state.connack
            }
            if code == .accepted {
                waiter?.resume(returning: sessionPresent)
            } else {
                waiter?.resume(throwing: MQTTClientError.connectionRefused(code))
                channel.close(promise: nil)
            }
        case .publish(let message):
            switch message.qos {
            case .atMostOnce:
                continuation.yield(message)
            case .atLeastOnce:
                continuation.yield(message)
                channel.writeAndFlush(MQTTPacket.puback(packetID: message.packetID!), promise: nil)
            case .exactlyOnce:
                let first = state.withLockedValue { $0.receivedQoS2.insert(message.packetID!).inserted }
                if first { continuation.yield(message) }
                channel.writeAndFlush(MQTTPacket.pubrec(packetID: message.packetID!), promise: nil)
            }
        case .pubrel(let id):
            _ = state.withLockedValue { $0.receivedQoS2.remove(id) }
            channel.writeAndFlush(MQTTPacket.pubcomp(packetID: id), promise: nil)
        case .pubrec(let id):
            channel.writeAndFlush(MQTTPacket.pubrel(packetID: id), promise: nil)
        case .puback(let id), .pubcomp(let id), .suback(let id, _), .unsuback(let id):
            let waiter = state.withLockedValue { state in
                state.unacknowledged[id] = nil
                return state.waiting.removeValue(forKey: id)
            }
            waiter?.resume(returning: packet)
        case .pingresp:
            break
        case .connect, .subscribe, .unsubscribe, .pingreq, .disconnect:
            logger.warning("server sent \(packet.name); closing")
            channel.close(promise: nil)
        }
    }

    func closed(_ channel: Channel) {
        typealias Outcome = (CheckedContinuation<Bool, Error>?, [CheckedContinuation<MQTTPacket, Error>], Bool)
        let (connack, failed, reconnect) = state.withLockedValue { state -> Outcome in
            guard state.channel === channel else { return (nil, [], false) }
            state.channel = nil
            state.ready = false
            let connack = state.connack
            state.connack = nil
            // Publishes wait for their redelivery when we reconnect; everything else fails now.
            let keep = configuration.reconnect != nil && !state.closedByUser
            let failed = state.waiting.filter { !keep || state.unacknowledged[$0.key] == nil }
            for id in failed.keys { state.waiting[id] = nil }
            return (connack, Array(failed.values), keep)
        }
        connack?.resume(throwing: MQTTClientError.connectionLost)
        for waiter in failed { waiter.resume(throwing: MQTTClientError.connectionLost) }
        if reconnect, connack == nil { scheduleReconnect() }
    }

    private func scheduleReconnect() {
        guard let policy = configuration.reconnect else { return }
        let attempt = state.withLockedValue { state in
            defer { state.reconnectAttempt += 1 }
            return state.reconnectAttempt
        }
        var random = SystemRandomNumberGenerator()
        let delay = policy.delay(attempt: attempt, using: &random)
        logger.info("connection lost; reconnecting", metadata: ["attempt": "\(attempt + 1)", "delay": "\(delay)"])
        Task {
            try? await Task.sleep(for: delay)
            guard !state.withLockedValue({ $0.closedByUser }) else { return }
            do {
                try await connect()
            } catch {
                if state.withLockedValue({ $0.channel == nil && !$0.closedByUser }) { scheduleReconnect() }
            }
        }
    }
}

final class MQTTClientHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = MQTTPacket
    let client: MQTTClient

    init(client: MQTTClient) { self.client = client }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        client.received(unwrapInboundIn(data), on: context.channel)
    }

    func channelInactive(context: ChannelHandlerContext) {
        client.closed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
