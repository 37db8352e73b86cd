import CodeSigning
import Crypto
import Foundation
import MQTT
import NIOSSL
import TestSupport

/// A throwaway PKI on disk: a device CA, a server certificate for 127.0.0.1/localhost, device certificates on
/// demand, and a rogue CA nobody trusts.
final class TestPKI: @unchecked Sendable {
    let directory: TemporaryDirectory
    let ca: CertificateAuthority
    let rogue: CertificateAuthority

    init() throws {
        directory = try TemporaryDirectory("mqtt-pki")
        ca = try CertificateAuthority.create(
            commonName: "Test Device CA", key: P256.Signing.PrivateKey(), validity: Validity(days: 30))
        rogue = try CertificateAuthority.create(
            commonName: "Rogue CA", key: P256.Signing.PrivateKey(), validity: Validity(days: 30))
        try directory.write("ca.pem", text: try CertificateCoding.encode(ca.certificate))
        let serverKey = P256.Signing.PrivateKey()
        let server = try ca.issue(
            .server(hosts: ["localhost", "127.0.0.1"]), publicKey: serverKey.publicKey, validity: Validity(days: 30))
        try directory.write("server.pem", text: try CertificateCoding.encode(server))
        try directory.write("server.key", PrivateKeyCoding.encode(serverKey, format: .pkcs8PEM))
    }

    var caPath: String { directory.path("ca.pem") }

    func serverTLS() throws -> MQTTServerConfiguration.TLSIdentity {
        try .init(
            certificateChainPEM: directory.path("server.pem"), privateKeyPEM: directory.path("server.key"),
            clientCAPEM: caPath)
    }

    /// Writes `<name>.pem` and `<name>.key` for a device certificate and returns their paths.
    @discardableResult
    func device(
        _ thing: String, fileName: String? = nil, issuer: CertificateAuthority? = nil,
        validity: Validity = Validity(days: 30)
    )
        throws -> (certificate: String, key: String, serial: [UInt8])
    {
        let key = P256.Signing.PrivateKey()
        let certificate = try (issuer ?? ca).issue(
            .device(thingName: thing), publicKey: key.publicKey, validity: validity)
        let name = fileName ?? thing
        let certificatePath = try directory.write("\(name).pem", text: try CertificateCoding.encode(certificate))
        let keyPath = directory.path("\(name).key")
        try KeyFiles.writePrivateKey(key, to: keyPath)
        return (certificatePath, keyPath, Array(certificate.serialNumber.bytes))
    }

    func clientTLS(_ files: (certificate: String, key: String, serial: [UInt8])) throws -> TLSConfiguration {
        MQTTClientConfiguration.mutualTLS(
            certificateChain: try NIOSSLCertificate.fromPEMFile(files.certificate),
            privateKey: try NIOSSLPrivateKey(file: files.key, format: .pem),
            trustedServerCAs: try NIOSSLCertificate.fromPEMFile(caPath))
    }
}

/// A running server on a free loopback port and clients for it.
final class TestBroker: @unchecked Sendable {
    let pki: TestPKI
    let server: MQTTServer
    let port: Int

    init(
        pki: TestPKI? = nil, authorizer: any MQTTAuthorizer = DeviceAuthorizer(),
        handler: (any MQTTRequestHandler)? = nil,
        revoked: Set<[UInt8]> = [], maximumPacketSize: Int = 64 * 1024, maximumQueuedMessages: Int = 1000,
        retainedLimits: RetainedLimits = RetainedLimits(), admission: MQTTAdmissionLimits = .underTestLoad,
        inboundRate: InboundRateLimits? = nil
    ) async throws {
        let pki = try pki ?? TestPKI()
        self.pki = pki
        let configuration = MQTTServerConfiguration(
            host: "127.0.0.1", port: 0, tls: try pki.serverTLS(), maximumPacketSize: maximumPacketSize,
            maximumQueuedMessages: maximumQueuedMessages, retainedLimits: retainedLimits,
            isRevoked: { revoked.contains($0.serialNumber) }, admission: admission, inboundRate: inboundRate)
        server = MQTTServer(configuration: configuration, authorizer: authorizer, requestHandler: handler)
        port = try await server.start()
    }

    func client(
        _ thing: String, clientID: String? = nil, cleanSession: Bool = true, keepAlive: UInt16 = 30, will: Will? = nil,
        reconnect: ReconnectPolicy? = nil
    ) throws -> MQTTClient {
        let files = try pki.device(thing)
        return MQTTClient(
            configuration: MQTTClientConfiguration(
                host: "127.0.0.1", port: port, tls: try pki.clientTLS(files),
                connect: ConnectPacket(
                    clientID: clientID ?? thing, cleanSession: cleanSession, keepAlive: keepAlive, will: will),
                reconnect: reconnect))
    }

    func connected(_ thing: String, cleanSession: Bool = true, will: Will? = nil) async throws -> MQTTClient {
        let client = try client(thing, cleanSession: cleanSession, will: will)
        try await client.connect()
        return client
    }

    func stop() async { await server.stop() }
}

/// Collects every message a client receives, so tests can wait for one with a timeout without cancelling the
/// client's stream (cancelling a task in `AsyncStream.next()` ends the stream).
final class Inbox: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [PublishPacket] = []
    private var consumed = 0

    /// Messages received so far.
    var count: Int { lock.withLock { received.count } }

    init(_ client: MQTTClient) {
        Task { [self] in
            for await message in client.messages {
                lock.withLock { received.append(message) }
            }
        }
    }

    /// The next message not returned before, or nil after `seconds`.
    func next(within seconds: Double = 5) async -> PublishPacket? {
        var message: PublishPacket?
        _ = await eventually(within: seconds) {
            message = lock.withLock {
                guard consumed < received.count else { return nil }
                consumed += 1
                return received[consumed - 1]
            }
            return message != nil
        }
        return message
    }

    var all: [PublishPacket] { lock.withLock { received } }
}
