import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A small HTTP(S) server for the HTTP data plane tests (aws-ota-wire.md §8): it serves one file, answering
/// `GET` with `Range: bytes=a-b` by 206 and exactly those bytes over kept-alive connections. A request whose URL
/// carries `token=<expired>` gets 403, as an expired presigned URL does; `dropConnections` closes each connection
/// at its first request without an answer. It records the requests and counts the connections.
public final class RangeFileServer: @unchecked Sendable {
    public struct Request: Equatable, Sendable {
        public let uri: String
        public let range: String?
    }

    let file: [UInt8]
    private let state = NIOLockedValueBox(State())
    private var channel: Channel?

    struct State {
        var expiredToken: String?
        var dropConnections = false
        var padding = 0
        var expireAfter: (token: String, requests: Int)?
        var requests: [Request] = []
        var connections = 0
    }

    /// TLS with `certificatePEM` (and the chain behind it) and its key when given, else plain HTTP.
    public init(file: [UInt8], certificatePEM: String? = nil, keyPEM: String? = nil) async throws {
        self.file = file
        let context: NIOSSLContext?
        if let certificatePEM, let keyPEM {
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map {
                    .certificate($0)
                },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)))
            context = try NIOSSLContext(configuration: configuration)
        } else {
            context = nil
        }
        let server = self
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                server.state.withLockedValue { $0.connections += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    if let context {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RangeHandler(server: server))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    public var port: Int { channel?.localAddress?.port ?? 0 }

    /// The URL of the file, with a token (which `expire` can make refused).
    public func url(scheme: String, host: String = "127.0.0.1", token: String = "t1") -> String {
        "\(scheme)://\(host):\(port)/data/file.bin?token=\(token)"
    }

    /// Requests whose URL carries `token=<token>` are answered 403 from now on.
    public func expire(token: String) { state.withLockedValue { $0.expiredToken = token } }
    /// Requests carrying `token=<token>` are answered 403 once `requests` requests in all have been served.
    public func expire(token: String, afterRequests requests: Int) {
        state.withLockedValue { $0.expireAfter = (token, requests) }
    }
    public func dropConnections(_ drop: Bool) { state.withLockedValue { $0.dropConnections = drop } }
    /// A misbehaving server: every 206 body gets `extra` bytes more than the range asked for.
    public func padBodies(by extra: Int) { state.withLockedValue { $0.padding = extra } }
    public var requests: [Request] { state.withLockedValue { $0.requests } }
    public var connections: Int { state.withLockedValue { $0.connections } }

    public func stop() async { try? await channel?.close() }

    /// What to answer to `head`: nil to drop the connection.
    fileprivate func answer(_ head: HTTPRequestHead) -> (HTTPResponseStatus, [(String, String)], [UInt8])? {
        let range = head.headers.first(name: "Range")
        let (expired, drop, padding) = state.withLockedValue { state -> (String?, Bool, Int) in
            if let (token, after) = state.expireAfter, state.requests.count >= after {
                state.expiredToken = token
                state.expireAfter = nil
            }
            state.requests.append(Request(uri: head.uri, range: range))
            return (state.expiredToken, state.dropConnections, state.padding)
        }
        if drop { return nil }
        if let expired, head.uri.contains("token=" + expired) { return (.forbidden, [], Array("expired".utf8)) }
        guard head.method == .GET, head.uri.hasPrefix("/data/file.bin") else { return (.notFound, [], []) }
        guard let range, let (first, last) = Self.parse(range: range), first <= last, last < file.count else {
            return (.rangeNotSatisfiable, [("Content-Range", "bytes */\(file.count)")], [])
        }
        let body = Array(file[first...last]) + Array(repeating: 0x55, count: padding)
        return (.partialContent, [("Content-Range", "bytes \(first)-\(last)/\(file.count)")], body)
    }

    static func parse(range: String) -> (Int, Int)? {
        guard range.hasPrefix("bytes=") else { return nil }
        let bounds = range.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let first = Int(bounds[0]), let last = Int(bounds[1]) else { return nil }
        return (first, last)
    }
}

private final class RangeHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let server: RangeFileServer
    var head: HTTPRequestHead?

    init(server: RangeFileServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request): head = request
        case .body: break
        case .end:
            guard let request = head, let (status, fields, body) = server.answer(request) else {
                context.close(promise: nil)
                return
            }
            var headers = HTTPHeaders(fields)
            headers.add(name: "Content-Length", value: String(body.count))
            headers.add(name: "Connection", value: request.isKeepAlive ? "keep-alive" : "close")
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))),
                promise: nil)
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            let keepAlive = request.isKeepAlive
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { channel.close(promise: nil) }
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}
