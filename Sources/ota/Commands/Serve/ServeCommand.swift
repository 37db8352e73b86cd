import ArgumentParser
import Dispatch
import Foundation
import Logging
import OTAService

/// `ota serve` — the whole service in one process until SIGINT or SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract:
            "Run the service: device gateway (MQTT over mutual TLS), management API and web console (HTTPS), "
            + "Prometheus metrics, rollouts.",
        discussion: """
            The first start creates, in the data directory: the SQLite database, the file store (blobs/), a device CA and a \
            server certificate (pki/), the admin API token (admin-token, mode 0600), the token that opens /metrics \
            (metrics-token, mode 0600) and the key that signs data URLs (data-url.key, mode 0600). The web console is \
            at /console on the API port; its accounts come from `ota users`. With --database, state and (by default) \
            file contents live in PostgreSQL instead, shared by every instance: give each instance a copy of the \
            first one's pki/, admin-token, metrics-token and data-url.key (docs/deploy.md).
            """)

    @Option(help: "Where the service keeps its state.") var dataDir: String
    @Option(help: "Address to listen on.") var host = "0.0.0.0"
    @Option(help: "MQTT over TLS port for devices.") var mqttPort = OTAServiceDefaults.mqttTLSPort
    @Option(help: "HTTPS port of the management API.") var apiPort = OTAServiceDefaults.apiHTTPSPort
    @Option(
        name: .customLong("server-name"),
        help:
            "Host name or address devices use to reach the service, for the server certificate (first start; repeatable)."
    )
    var serverNames: [String] = []
    @Option(
        help: ArgumentHelp(
            "The key store: signing profiles created through the API take their keys from here (default DATA/signing).",
            discussion: "A profile's --key-path is relative to it (or absolute within it); keys made with "
                + "--generate-key are written there (0600)."))
    var signingKeyDir: String?
    @Flag(
        help: ArgumentHelp(
            "Log what each device does: subscriptions, every Jobs request and its answer, stream requests and the "
                + "blocks sent, rejections with their reason.",
            discussion: "Without it: connections, rejections and one line per job execution state change. Every "
                + "device line carries thing=<name> or client=<name>: follow one device with grep."))
    var verbose = false
    @Option(
        help: ArgumentHelp(
            "Threads for network I/O: device and API connections, PostgreSQL (1–256; default: one per core).",
            discussion: "Instances sharing a machine share its cores: give each its share (docs/deploy.md)."))
    var eventLoops: Int?
    @Option(
        help: ArgumentHelp(
            "Seconds within which a device's reconnects do not write its last-seen time again (0–86400; 0: every "
                + "connection writes it).",
            discussion: "A minute by default: a device on a flaky link, or in a reboot loop, costs no database "
                + "write each time it comes back."))
    var lastSeenResolution: Int64 = DeviceGateway.defaultLastSeenResolution
    @OptionGroup(title: "Limits") var limits: ConnectionLimitOptions
    @OptionGroup(title: "Database") var database: DatabaseOptions
    @OptionGroup(title: "File store") var files: FileStoreOptions
    @OptionGroup(title: "Files and HTTP delivery") var delivery: FileDeliveryOptions

    func validate() throws {
        if let eventLoops, !(1...256).contains(eventLoops) { throw ValidationError("--event-loops must be 1–256") }
        guard (0...86_400).contains(lastSeenResolution) else {
            throw ValidationError("--last-seen-resolution must be 0–86400 seconds")
        }
    }

    func run() async throws {
        if let eventLoops { EventLoopThreads.limit(to: eventLoops) }  // before anything starts the group
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .info
            return handler
        }
        raiseFileDescriptorLimit()
        var configuration = OTAServerConfiguration(dataDirectory: dataDir)
        configuration.mqttHost = host
        configuration.mqttPort = mqttPort
        configuration.apiHost = host
        configuration.apiPort = apiPort
        configuration.serverHosts = ["localhost", "127.0.0.1"] + serverNames
        configuration.lastSeenResolutionSeconds = lastSeenResolution
        limits.apply(to: &configuration)
        delivery.apply(to: &configuration)
        try database.apply(to: &configuration)
        configuration.fileStore = try files.makeStore(database: configuration.database, dataDirectory: dataDir)
        configuration.signingKeyDirectory = signingKeyDir
        let server = try OTAServer(configuration: configuration)
        let mqtt = try await server.start()
        // Unbuffered writes, so the banner reaches a pipe or a log file at once.
        FileHandle.standardOutput.write(Data((Self.banner(server, mqttPort: mqtt) + "\n").utf8))
        await Self.waitForTermination()
        FileHandle.standardOutput.write(Data("Stopping…\n".utf8))
        await server.stop()
    }

    static func banner(_ server: OTAServer, mqttPort: Int) -> String {
        let data = server.configuration.dataDirectory
        // Clients default to https://localhost:8443; another port must be named.
        let apiPort = server.apiPort ?? OTAServiceDefaults.apiHTTPSPort
        let client =
            "--data-dir \(data)"
            + (apiPort == OTAServiceDefaults.apiHTTPSPort ? "" : " --server https://localhost:\(apiPort)")
        var lines = ["SwiftOTA service running (data in \(data))"]
        if server.createdPKI || server.createdAdminToken {
            lines.append("First start: created")
            if server.createdPKI {
                lines.append("  device CA            \(server.pki.caCertificatePath) (key ca.key, mode 0600)")
                lines.append("  server certificate   \(server.pki.serverCertificatePath)")
            }
            if server.createdAdminToken {
                lines.append("  admin API token      \(server.adminToken.path) (mode 0600)")
                lines.append("  metrics token        \(server.metricsToken.path) (mode 0600; opens /metrics only)")
            }
        }
        lines += [
            "  devices (MQTT, mutual TLS)   port \(mqttPort)",
            "  management API (HTTPS)       https://localhost:\(server.apiPort ?? 0)/api/v1  (OpenAPI: /api/v1/openapi.json)",
            "  Prometheus metrics (HTTPS)   https://localhost:\(server.apiPort ?? 0)/metrics  (docs/monitoring.md)",
            "",
            "Connect a device:",
            "  ota things create my-device \(client)",
            "  ota things issue-certificate my-device --out my-device \(client)",
            "  then connect over MQTT/TLS to port \(mqttPort) with client id my-device, my-device/my-device.pem and .key,",
            "  trusting my-device/ca.pem; the device uses the AWS IoT Jobs and Streams topics under $aws/things/my-device/.",
        ]
        return lines.joined(separator: "\n")
    }

    /// Returns when SIGINT or SIGTERM arrives.
    static func waitForTermination() async {
        let (signals, continuation) = AsyncStream<Int32>.makeStream()
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .main)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
        for await _ in signals { break }
        sources.forEach { $0.cancel() }
    }
}
