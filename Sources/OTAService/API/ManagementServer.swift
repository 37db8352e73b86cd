import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

// Runs the management API over HTTPS (the service's server certificate) until stopped.

final class ManagementServer: Sendable {
    private let running = Mutex<(group: ServiceGroup, task: Task<Void, Never>)?>(nil)

    /// Starts listening and returns the bound port (useful with port 0).
    func start(
        api: ManagementAPI, host: String, port: Int, pki: ServicePKI, limits: APIConnectionLimits,
        tally: APIShedTally, logger: Logger
    ) async throws -> Int {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pki.serverCertificatePath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pki.serverKeyPath, format: .pem)))
        tls.minimumTLSVersion = .tlsv12
        let (bound, boundContinuation) = AsyncStream<Int>.makeStream()
        let application = Application(
            router: api.router(),
            server: try .tls(
                .http1(
                    configuration: .init(
                        additionalChannelHandlers: [APIDeadlineHandler(limits: limits, tally: tally)],
                        idleTimeout: TimeAmount(limits.idleTimeout))),
                tlsConfiguration: tls),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "SwiftOTA"),
            onServerRunning: { channel in
                boundContinuation.yield(channel.localAddress?.port ?? port)
                boundContinuation.finish()
            },
            logger: logger)
        // A service group with no signals of its own: `stop` asks it for a graceful shutdown, which lets
        // in-flight requests finish instead of cancelling them.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [application], gracefulShutdownSignals: [], logger: logger))
        let task = Task {
            do {
                try await group.run()
            } catch {
                logger.error("management API stopped", metadata: ["error": "\(error)"])
            }
            boundContinuation.finish()
        }
        running.withLock { $0 = (group, task) }
        for await port in bound { return port }
        throw OTAServiceError.internalError("the management API could not listen on \(host):\(port)")
    }

    func stop() async {
        let current = running.withLock { running in
            defer { running = nil }
            return running
        }
        guard let current else { return }
        await current.group.triggerGracefulShutdown()
        await current.task.value
    }
}
