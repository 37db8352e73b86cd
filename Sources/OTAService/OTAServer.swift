import CodeSigning
import Crypto
import Foundation
import Logging
import MQTT
import OTAWire
import Synchronization

// The whole service in one process: storage, file store and its content cache, data URLs, PKI, job engine, device gateway (MQTT over mutual TLS)
// and the periodic rollout tick. `ota serve` and the end-to-end tests start it.

public struct OTAServerConfiguration: Sendable {
    public var dataDirectory: String
    public var mqttHost = "0.0.0.0"
    public var mqttPort = OTAServiceDefaults.mqttTLSPort
    /// Host names and addresses the server certificate names (created on first start only).
    public var serverHosts = ["localhost", "127.0.0.1"]
    /// The management API over HTTPS; nil port disables it (tests of the device side alone).
    public var apiHost = "0.0.0.0"
    public var apiPort: Int? = OTAServiceDefaults.apiHTTPSPort
    public var tickInterval: Duration = .seconds(1)
    /// Deadlines and caps for device connections that have not authenticated yet.
    public var mqttAdmission = MQTTAdmissionLimits()
    /// Deadlines for management API connections.
    public var apiLimits = APIConnectionLimits()
    /// How fast one connected device may send (AWS IoT Core's per-connection limits by default).
    public var mqttInboundRate = InboundRateLimits.device
    /// Seconds within which a thing's reconnects do not write its lastSeenAt again (0: every connection writes).
    public var lastSeenResolutionSeconds: Int64 = DeviceGateway.defaultLastSeenResolution
    public var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    /// A shared PostgreSQL database for several instances; nil: SQLite in the data directory (`DATA/ota.sqlite`).
    public var database: PostgresDatabaseURL?
    /// Connections each instance keeps to PostgreSQL at most.
    public var databaseConnections = 8
    /// Where file contents live; nil: in PostgreSQL with `database`, else `DATA/blobs` (`LocalFileStore`).
    public var fileStore: (any FileStore)?
    /// Bytes of file contents kept in memory for delivery.
    public var fileCacheBytes = FileContentCache.defaultCapacityBytes
    /// How HTTP updates' URLs on the service's own port begin (`https://ota.example.com`); nil: the first server
    /// host and the API port.
    public var dataURLBase: String?
    /// Lifetime of each data URL issued with a job document (60–3600 s).
    public var dataURLExpirySeconds = 1800
    /// Where signing keys live; the API accepts keys only from here. nil: `DATA/signing`.
    public var signingKeyDirectory: String?
    /// The scrypt cost of operators' passwords set from now on (tests lower it: a debug build takes half a second
    /// per standard hash).
    public var passwordHashing = PasswordHash.Parameters.standard

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }

    /// The host devices are told to reach: the first name the operator added to the certificate, else loopback.
    var publicHost: String {
        serverHosts.first { $0 != "localhost" && $0 != "127.0.0.1" } ?? "127.0.0.1"
    }
}

public final class OTAServer: Sendable {
    public let configuration: OTAServerConfiguration
    public let store: any OTAStore
    /// File contents, through the cache every delivery reads.
    public let files: FileContentCache
    /// File records, read once each (delivery asks for one per request).
    public let fileRecords: FileRecordCache
    public let dataURLs: DataURLs
    /// The directory of signing keys that profiles created through the API may use.
    public let signingKeys: SigningKeyStore
    public let pki: ServicePKI
    public let engine: JobEngine
    public let registry: Registry
    public let updates: Updates
    public let gateway: DeviceGateway
    /// Which client certificates the gateway accepts; follows the registry without a restart.
    public let trust: GatewayTrust
    public let mqtt: MQTTServer
    /// True when this start created the PKI (first start).
    public let createdPKI: Bool
    public let adminToken: TokenFile
    public let createdAdminToken: Bool
    /// What `/metrics` reports; its own registry (docs/monitoring.md).
    public let metrics: ServiceMetrics
    /// The bearer token Prometheus scrapes `/metrics` with (`DATA/metrics-token`, 0600): it opens nothing else.
    public let metricsToken: TokenFile
    /// Operator accounts and their API tokens.
    public let operators: OperatorDirectory
    /// Where the management API records every change and refusal.
    let audit: AuditTrail
    /// How far each device downloading from this instance has got.
    let deliveryProgress: DeliveryProgress
    /// Console sign-in sessions and failed logins.
    let sessions: ConsoleSessions
    let loginThrottle = LoginThrottle()
    private let ports = Mutex<(mqtt: Int?, api: Int?)>((nil, nil))
    private let management = ManagementServer()
    private let apiShed = APIShedTally(logger: Logger(label: "swiftota.api"))
    private let ticker = Mutex<Task<Void, Never>?>(nil)
    /// With a shared database: this instance's link to the others.
    private let cluster: ClusterCoordinator?
    /// Whether this instance runs the rollout scheduler.
    public let leadership: any SchedulerLeadership
    private let logger: Logger

    public init(configuration: OTAServerConfiguration, logger: Logger = Logger(label: "swiftota.service")) throws {
        self.configuration = configuration
        self.logger = logger
        let metrics = ServiceMetrics()
        self.metrics = metrics
        let directory = configuration.dataDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fileStore: any FileStore
        var bus: (any ClusterBus)?
        var leadership: any SchedulerLeadership = SoleLeadership()
        if let database = configuration.database {
            let postgres = try PostgresStore(
                url: database, maximumConnections: configuration.databaseConnections,
                logger: Logger(label: "swiftota.database"))
            store = TimedStore(base: postgres, metrics: metrics)
            fileStore = configuration.fileStore ?? PostgresFileStore(store: postgres)
            bus = PostgresClusterBus(store: postgres, logger: Logger(label: "swiftota.cluster"))
            leadership = PostgresSchedulerLeadership(pool: postgres.pool, logger: Logger(label: "swiftota.cluster"))
        } else {
            store = TimedStore(base: try SQLiteStore(path: directory + "/ota.sqlite"), metrics: metrics)
            fileStore = try configuration.fileStore ?? LocalFileStore(root: directory + "/blobs")
        }
        self.leadership = leadership
        files = FileContentCache(store: fileStore, capacityBytes: configuration.fileCacheBytes)
        dataURLs = DataURLs(
            store: files.store, signer: try DataURLSigner.openOrCreate(path: directory + "/data-url.key"),
            expirySeconds: configuration.dataURLExpirySeconds)
        signingKeys = SigningKeyStore(directory: configuration.signingKeyDirectory ?? directory + "/signing")
        try FileManager.default.createDirectory(
            atPath: signingKeys.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        (pki, createdPKI) = try ServicePKI.openOrCreate(directory: directory + "/pki", hosts: configuration.serverHosts)
        (adminToken, createdAdminToken) = try TokenFile.openOrCreate(path: directory + "/admin-token")
        metricsToken = try TokenFile.openOrCreate(path: directory + "/metrics-token").token
        engine = JobEngine(store: store, now: configuration.now, dataURLs: dataURLs, metrics: metrics)
        operators = OperatorDirectory(store: store, now: configuration.now, hashing: configuration.passwordHashing)
        audit = AuditTrail(store: store, now: configuration.now, logger: Logger(label: "swiftota.audit"))
        sessions = ConsoleSessions(store: store, now: configuration.now)
        let trust = GatewayTrust(serviceCA: pki.authority.certificate)
        self.trust = trust
        // A revocation or a CA's deactivation also ends the live connections it concerns (the MQTT server is made
        // below; the registry is made first and reaches it through this box).
        let liveSessions = LiveSessions()
        registry = Registry(store: store, engine: engine) { [bus] change in
            trust.apply(change)
            liveSessions.end(trust.things(cutOffBy: change), reason: "its certificate is no longer trusted")
            if let bus { Task { await bus.announce(ClusterEvent(change)) } }
        }
        updates = Updates(store: store, files: files, engine: engine)
        fileRecords = FileRecordCache(store: store)
        let streams = StreamServer(store: store, files: files, records: fileRecords, metrics: metrics)
        deliveryProgress = streams.progress
        gateway = DeviceGateway(
            engine: engine, streams: streams, store: store,
            lastSeenResolution: configuration.lastSeenResolutionSeconds, logger: logger)
        let tls = try MQTTServerConfiguration.TLSIdentity(
            certificateChainPEM: pki.serverCertificatePath, privateKeyPEM: pki.serverKeyPath,
            clientCAPEM: pki.caCertificatePath)
        mqtt = MQTTServer(
            configuration: MQTTServerConfiguration(
                host: configuration.mqttHost, port: configuration.mqttPort, tls: tls,
                clientTrust: trust, admission: configuration.mqttAdmission,
                inboundRate: configuration.mqttInboundRate, metrics: metrics.mqtt),
            authorizer: DeviceAuthorizer(), requestHandler: gateway, logger: Logger(label: "swiftota.gateway"))
        let mqtt = mqtt
        liveSessions.server.withLock { $0 = mqtt }
        let gateway = gateway
        engine.setNotifyNextSink { thing, payload in
            gateway.nextExecutionChanged(of: thing)
            mqtt.publish(
                PublishPacket(topic: ThingTopics(thingName: thing).notifyNext, payload: payload, qos: .atLeastOnce))
        }
        if let bus {
            cluster = ClusterCoordinator(
                bus: bus, engine: engine, gateway: gateway, trust: trust, store: store, mqtt: mqtt,
                sessions: liveSessions, logger: Logger(label: "swiftota.cluster"))
        } else {
            cluster = nil
        }
    }

    public var mqttPort: Int? { ports.withLock { $0.mqtt } }
    public var apiPort: Int? { ports.withLock { $0.api } }

    /// Management API connections closed at a deadline, by reason (device connections: `mqtt.shedCounts`).
    public var apiShedCounts: APIShedCounts { apiShed.current }

    /// Everything the limits shed or refused since start, on both ports.
    public var protectionCounts: ProtectionCountsView {
        ProtectionCountsView(
            mqtt: mqtt.shedCounts, api: apiShedCounts, queueOverflows: mqtt.queueOverflowCount,
            slowConsumers: mqtt.slowConsumerCount, retainedRefused: mqtt.retainedRefusedCount,
            pacedClients: mqtt.pacedCount)
    }

    /// Starts the gateway, the management API and the rollout tick; returns the MQTT port.
    @discardableResult
    public func start() async throws -> Int {
        // A database or a bucket that cannot be reached, or credentials refused, stop the start here with the answer.
        try await store.prepare()
        try await files.store.check()
        // Listening before the trust snapshot is read: a change committed meanwhile is in one or the other.
        try await cluster?.start()
        try await trust.load(from: store)
        let port = try await mqtt.start()
        ports.withLock { $0.mqtt = port }
        if let apiPort = configuration.apiPort {
            let api = ManagementAPI(server: self, token: adminToken)
            let bound = try await management.start(
                api: api, host: configuration.apiHost, port: apiPort, pki: pki, limits: configuration.apiLimits,
                tally: apiShed, logger: Logger(label: "swiftota.api"))
            ports.withLock { $0.api = bound }
            // The unmodified FreeRTOS HTTP demo breaks on any `:port` in the URL (aws-ota-wire.md §8.1): none for 443.
            dataURLs.setBase(
                configuration.dataURLBase ?? "https://\(configuration.publicHost)" + (bound == 443 ? "" : ":\(bound)"))
        }
        let engine = engine
        let interval = configuration.tickInterval
        let logger = logger
        let leadership = leadership
        ticker.withLock {
            $0 = Task {
                while !Task.isCancelled {
                    // Several instances on one database: only the leader ticks (SchedulerLeadership.swift).
                    do { if await leadership.lead() { try await engine.tick() } } catch {
                        logger.error("rollout tick failed", metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: interval)
                }
            }
        }
        logger.info(
            "service started",
            metadata: [
                "mqttPort": "\(port)", "apiPort": "\(apiPort.map(String.init) ?? "off")",
                "dataDirectory": "\(configuration.dataDirectory)", "fileStore": "\(files.store.summary)",
                "database": "\(configuration.database.map(String.init(describing:)) ?? "sqlite")",
            ])
        return port
    }

    public func stop() async {
        ticker.withLock { $0 }?.cancel()
        await management.stop()
        await mqtt.stop()
        // Progress reports still held are recorded while the store is open; devices still connected are refused
        // from now on, so this ends.
        await engine.closeHeldProgress()
        await cluster?.stop()
        await leadership.resign()
        await store.close()
    }

    /// Creates a thing's key and certificate from the service CA and binds the certificate to it.
    public func provisionDevice(_ thing: String) async throws
        -> (certificatePEM: String, privateKeyPEM: String, fingerprint: String)
    {
        guard try await store.read({ try $0.thing(named: thing) }) != nil else {
            throw OTAServiceError.notFound("thing \(thing)")
        }
        let issued = try pki.issueDevice(thing)
        let record = try await registry.bind(certificatePEM: issued.certificatePEM, to: thing)
        return (issued.certificatePEM, issued.privateKeyPEM, record.fingerprint)
    }
}

/// The MQTT server, once made, for ending the sessions of things whose certificate lost its trust.
final class LiveSessions: Sendable {
    let server = Mutex<MQTTServer?>(nil)

    func end(_ things: [String], reason: String) {
        guard !things.isEmpty, let server = server.withLock({ $0 }) else { return }
        for thing in things { server.disconnect(clientID: thing, reason: reason) }
    }
}
