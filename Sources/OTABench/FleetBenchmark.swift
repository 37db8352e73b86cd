import ESP32Formats
import ESP32Simulator
import Foundation
import MQTT
import NIOSSL
import OTAAgent
import OTADemo
import OTAService
import RawClients

/// `ota bench fleet`: one full update of N simulated devices against `ota serve` running as a child process.
///
/// The service runs in its own process, so its peak memory (VmHWM) is its own; the devices run in this process and
/// share the machine's cores with it. End-to-end time covers download (MQTT/TLS blocks or HTTPS ranges), signature
/// check, secure boot block, reboot, self-test and SUCCEEDED. Raw TLS bulk moves the same bytes over min(N, 1000)
/// loopback connections in this process.
public struct FleetBenchmark: Sendable {
    /// Simulated devices, at least 1.
    public var devices: Int
    /// Update image size in bytes, 64 KiB … 1400 KiB (the bench slots are 1.5 MiB).
    public var imageSize: Int
    /// Rollout rate: at most this many devices (1–1000) start per minute; nil: all at once.
    public var maxPerMinute: Int?
    /// The update's `protocols`: ["MQTT"] (stream blocks) or ["HTTP"] (the service's HTTPS data plane).
    public var protocols: [String] = ["MQTT"]
    /// PostgreSQL shared by the instances (`ota serve --database`, as given); nil: SQLite in the data directory.
    public var database: String?
    /// `ota serve` processes on that database, each with its own ports; device k connects to instance k mod N.
    public var instances = 1
    /// Each instance's `ota serve --event-loops`; nil: one thread per core, NIO's default.
    public var eventLoopsPerInstance: Int?
    /// Devices connect through HAProxy (docs/deploy.md's configuration), which spreads them over the instances; more
    /// devices than one HAProxy process can hold open go through several, device k to balancer k mod M.
    public var throughHAProxy = false
    /// Load run beside the update (`ota bench abuse`'s attacks); nil: the fleet alone.
    public var disturbance: (any FleetDisturbance)?
    /// The management API of the `ota serve` the bench starts: `ota` passes its own API client, so the bench drives
    /// the service as the CLI does.
    public var api: any BenchManagementAPI

    public init(devices: Int, imageSize: Int, maxPerMinute: Int?, api: any BenchManagementAPI) {
        self.devices = devices
        self.imageSize = imageSize
        self.maxPerMinute = maxPerMinute
        self.api = api
    }

    /// Two 1.5 MiB OTA slots and no factory: room for a 1 MiB image and its secure boot block.
    static let table = PartitionTable(partitions: [
        Partition(name: "nvs", type: .data, subtype: PartitionDataSubtype.nvs, offset: 0x9000, size: 0x4000),
        Partition(name: "otadata", type: .data, subtype: PartitionDataSubtype.ota, offset: 0xD000, size: 0x2000),
        Partition(name: "phy_init", type: .data, subtype: PartitionDataSubtype.phy, offset: 0xF000, size: 0x1000),
        Partition(name: "ota_0", type: .app, subtype: 0x10, offset: 0x10000, size: 0x180000),
        Partition(name: "ota_1", type: .app, subtype: 0x11, offset: 0x190000, size: 0x180000),
    ])

    public struct Result: Encodable {
        let build: String
        /// MQTT or HTTP.
        let delivery: String
        /// "sqlite", or the PostgreSQL URL without its password.
        let database: String
        let instances: Int
        /// Each instance's event loop threads; nil: one per core.
        let eventLoopsPerInstance: Int?
        /// "HAProxy" when the devices connected through it, else nil (each device to its instance directly).
        let balancer: String?
        /// HAProxy's CPU time during the update (nil without it).
        let balancerCPUSeconds: Double?
        let devices: Int
        let maxPerMinute: Int?
        let imageBytes: Int
        let succeeded: Int
        /// Executions that did not succeed, grouped by status and details.
        let notSucceeded: [String]
        let endToEndSeconds: Double
        let perDeviceSecondsP50: Double
        let perDeviceSecondsP90: Double
        let perDeviceSecondsP99: Double
        /// From reconnecting after the reboot to the job starting the self-test (the agent gives up at 16 s).
        let selfTestWaitSecondsP50: Double
        let selfTestWaitSecondsP99: Double
        let selfTestWaitSecondsMax: Double
        /// From a device's block request to each block's arrival, as the devices saw it during the update.
        let blockLatencyMillisecondsP50: Double
        let blockLatencyMillisecondsP99: Double
        let blockLatencyMillisecondsMax: Double
        let goodputMiBPerSecond: Double
        /// The faster of raw TLS's two runs (the goodput ratio's baseline), and each run's.
        let rawTLSMiBPerSecond: Double
        let ratio: Double
        let rawTLSMiBPerSecondRuns: [Double]
        let serviceCPUSeconds: Double
        let devicesCPUSeconds: Double
        /// The service's CPU time per MiB delivered, and raw TLS's (sender and receiver together) per MiB moved:
        /// the cheaper of its two runs, so that one run slowed by a noisy moment does not flatter the ratio.
        let serviceCPUMillisecondsPerMiB: Double
        let rawTLSCPUMillisecondsPerMiB: Double
        /// Raw TLS's CPU per MiB in its run before the fleet and in its run after.
        let rawTLSCPUMillisecondsPerMiBRuns: [Double]
        /// Service CPU per MiB over raw TLS's (issue 17: ≤ 2).
        let serviceToRawTLSCPURatio: Double
        /// The service had gone quiet after the fleet's first connections when the update started (false: the
        /// wait gave up, and the update's figures may hold some of their work).
        let quietBeforeUpdate: Bool
        /// The largest of the instances' peaks, and each one's.
        let servicePeakMiB: Double
        let servicePeakMiBPerInstance: [Double]
        let devicesProcessPeakMiB: Double
        /// PostgreSQL transactions of every instance during the update, per block delivered (nil with SQLite).
        let databaseTransactionsPerBlock: Double?
        /// Their statements, each a round trip (BEGIN and COMMIT included), per block delivered (nil with SQLite).
        let databaseStatementsPerBlock: Double?
        /// Devices' reports committed during the update, and the transactions they took (group commit).
        let reportCommits: ReportCommitCounts
        /// Whole-file reads of the file store during the run (the content cache makes it one per image).
        let fileStoreReads: Int
        /// What each instance's limits shed or refused during the run.
        let protection: [ProtectionCountsView]
        /// What the disturbance did, a line per kind of load (empty without one).
        let disturbance: [String]
    }

    /// Prepares the data directory in this process, starts `ota serve` on it as a child (this executable), and updates
    /// the fleet through the service's management API.
    public func run() async throws -> Result {
        let directory = try Timing.scratchDirectory()
        // OTA_BENCH_KEEP=1 keeps the services' data directories and logs (`service.log` in each) for a post-mortem.
        let keep = ProcessInfo.processInfo.environment["OTA_BENCH_KEEP"] == "1"
        if keep { progress("keeping the services' data and logs in \(directory.path)") }
        defer { if !keep { try? FileManager.default.removeItem(at: directory) } }
        let ports = try (0..<instances).map { _ in (mqtt: try LoopbackPort.free(), api: try LoopbackPort.free()) }
        let balancerPorts =
            throughHAProxy ? try (0..<HAProxyBalancer.processes(for: devices)).map { _ in try LoopbackPort.free() } : []
        // A scratch database of this run's own on the server given, dropped at the end.
        guard let server = try database.map(PostgresDatabaseURL.init) else {
            return try await run(in: directory, ports: ports, balancerPorts: balancerPorts, database: nil)
        }
        let scratch = try await PostgresScratchDatabase.create(on: server, prefix: "ota_bench_")
        do {
            let result = try await run(in: directory, ports: ports, balancerPorts: balancerPorts, database: scratch)
            try await PostgresScratchDatabase.drop(scratch, from: server)
            return result
        } catch {
            try? await PostgresScratchDatabase.drop(scratch, from: server)
            throw error
        }
    }

    private func run(
        in directory: URL, ports: [(mqtt: Int, api: Int)], balancerPorts: [Int],
        database databaseURL: PostgresDatabaseURL?
    ) async throws -> Result {

        // The data directory is prepared in this process (things, certificates, group, profile, file); then the
        // service proper starts on it as a child (or several, on the shared database).
        let world = try await DemoWorld(dataDirectory: directory.path, apiPort: nil, database: databaseURL)
        try await world.createSigningProfile()
        // The baseline first, while this process holds nothing else: the same bytes over raw TLS on loopback; and
        // again once the fleet is gone, since one run of it swings with the machine's other load.
        progress("baseline: raw TLS bulk over \(min(devices, 1000)) connections")
        let rawBefore = try await rawTLSBaseline(world.server.pki, bytes: imageSize * devices)
        let factory = try world.firmware("1.0.0", signed: true, payloadSize: 20_000)
        progress("provisioning \(devices) devices")
        var fleet: [SimulatedDevice] = []
        for index in 1...devices {
            fleet.append(
                try await world.makeDevice(
                    String(format: "dev-%05d", index), factory: factory, table: Self.table,
                    port: balancerPorts.isEmpty
                        ? ports[(index - 1) % instances].mqtt : balancerPorts[(index - 1) % balancerPorts.count]))
            if index % 1000 == 0 { progress("  \(index) provisioned") }
        }
        let image = try world.firmware("1.1.0", signed: false, payloadSize: imageSize - 600)
        let file = try await world.server.updates.upload(image, name: "bench-1.1.0.bin", kind: .app)
        try await disturbance?.prepare(world)
        await world.server.stop()

        let services = try startInstances(directory: directory.path, ports: ports, database: databaseURL)
        defer { services.forEach { $0.kill() } }
        try await BenchDevice.waitUntil(timeout: .seconds(60), polling: .milliseconds(50)) {
            ports.allSatisfy { canConnect($0.api) && canConnect($0.mqtt) }
        }
        let balancers = try balancerPorts.enumerated().map { index, port in
            try HAProxyBalancer(
                port: port, instances: ports, connections: devices / balancerPorts.count + 1,
                directory: directory.path, name: "haproxy-\(index + 1)")
        }
        defer { balancers.forEach { $0.kill() } }
        for balancer in balancers { try await balancer.waitUntilReady() }
        progress("\(instances) × ota serve up; connecting \(devices) devices")
        for device in fleet { world.fleet.launch(device) }
        fleet = []
        // The fleet's first connections (a TLS handshake with a chain to validate, subscriptions and a job query
        // each) are not the update's cost: the figures start once every device has been answered and the
        // service has gone quiet.
        try await BenchDevice.waitUntil(timeout: .seconds(600), polling: .milliseconds(100)) {
            let states = world.fleet.snapshot
            return states.count == devices
                && states.allSatisfy { $0.status.phase == .idle && $0.status.heardFromService }
        }
        let quietBeforeUpdate = try await Self.waitUntilQuiet("the service") {
            try services.reduce(0) { $0 + (try $1.runNanoseconds()) }
        }

        let connections = ports.map {
            APIConnection(api: api, server: "https://127.0.0.1:\($0.api)", dataDirectory: directory.path)
        }
        let connection = connections[0]
        if let disturbance {
            try await disturbance.start(mqttPort: ports[0].mqtt, apiPort: ports[0].api)
            progress("disturbance started; letting it build up for \(disturbance.buildUp)")
            try await Task.sleep(for: disturbance.buildUp)
        }
        progress("updating \(devices) devices to 1.1.0 (\(image.count) bytes each)")
        let statusBefore = try await Self.status(of: connections)
        // CPU seconds the instances, and the balancers, have used so far, together.
        let serviceCPUSeconds = { try services.reduce(0) { $0 + (try $1.cpuSeconds()) } }
        let balancerCPUSeconds = { try balancers.reduce(0) { $0 + (try $1.cpuSeconds()) } }
        let serviceCPUBefore = try serviceCPUSeconds()
        let devicesCPUBefore = try processCPUSeconds()
        let balancerCPUBefore = try balancerCPUSeconds()
        world.fleet.resetBlockLatencies()
        let start = ContinuousClock.now
        var update: [String: Any] = [
            "id": "bench", "fileID": file.id, "signingProfile": "demo", "groups": [DemoWorld.group],
        ]
        if let maxPerMinute { update["rollout"] = ["maximumPerMinute": maxPerMinute] }
        update["protocols"] = protocols
        try await connection.withClient { api in try await api.post("/updates", json: update) }
        try await waitForOutcomes(world.fleet, from: start)
        try await waitUntilRecorded(connection)
        let end = ContinuousClock.now
        let blockLatencies = world.fleet.blockLatencies.map(Double.init).sorted()
        let peaks = try services.map { Double(try $0.peakResidentBytes()) / 1_048_576 }
        let serviceCPU = try serviceCPUSeconds() - serviceCPUBefore
        // After the figures: closing the attack's thousands of sockets costs the service too, but not the update.
        let disturbed = await disturbance?.stop() ?? []
        let devicesCPU = try processCPUSeconds() - devicesCPUBefore
        let balancerCPU =
            balancers.isEmpty ? nil : try balancerCPUSeconds() - balancerCPUBefore
        let (succeeded, reasons) = try await outcomes(connection)
        let statusAfter = try await Self.status(of: connections)
        let storeReads = statusAfter.reduce(0) { $0 + $1.fileStoreReads }
        let blocks = succeeded * ((image.count + AgentLimits.blockSize - 1) / AgentLimits.blockSize)
        let growth = { (count: (ServiceStatusView) -> Int?) in
            zip(statusBefore, statusAfter).reduce(0) { $0 + (count($1.1) ?? 0) - (count($1.0) ?? 0) }
        }
        let (transactions, statements) = (growth(\.databaseTransactions), growth(\.databaseStatements))
        let perBlock = { (count: Int) in databaseURL == nil ? nil : Double(count) / Double(max(blocks, 1)) }
        let reportCommits = zip(statusBefore, statusAfter).reduce(ReportCommitCounts()) { sum, pair in
            let (before, after) = (pair.0.reportCommits ?? .init(), pair.1.reportCommits ?? .init())
            return ReportCommitCounts(
                batches: sum.batches + after.batches - before.batches,
                reports: sum.reports + after.reports - before.reports)
        }
        let times = world.fleet.successTimes.values.map { Timing.milliseconds($0 - start) / 1000 }.sorted()
        let selfTestWaits = world.fleet.snapshot.compactMap { $0.status.selfTestWait }
            .map { Timing.milliseconds($0) / 1000 }.sorted()
        await world.fleet.stopAll()
        services.forEach { $0.kill() }
        balancers.forEach { $0.kill() }
        // The devices' connections are torn down as the services go: that work must not land in the baseline.
        _ = try await Self.waitUntilQuiet("this process") { try processRunNanoseconds(of: "self") }
        progress("baseline again: raw TLS bulk")
        let rawAfter = try await rawTLSBaseline(world.server.pki, bytes: imageSize * devices)
        let rawRuns = [rawBefore, rawAfter]
        let rawCPU = rawRuns.map(\.cpuSecondsPerMiB).min()!
        let rawBytesPerSecond = rawRuns.map(\.bytesPerSecond).max()!

        let seconds = Timing.milliseconds(end - start) / 1000
        let goodput = Double(succeeded * image.count) / seconds
        let serviceCPUPerMiB = serviceCPU * 1000 / max(Double(succeeded * image.count) / 1_048_576, 1e-9)
        return Result(
            build: Timing.buildConfiguration, delivery: protocols.joined(separator: "+"),
            database: databaseURL.map(String.init(describing:)) ?? "sqlite", instances: instances,
            eventLoopsPerInstance: eventLoopsPerInstance,
            balancer: balancers.isEmpty ? nil : balancers.count == 1 ? "HAProxy" : "\(balancers.count) × HAProxy",
            balancerCPUSeconds: balancerCPU, devices: devices,
            maxPerMinute: maxPerMinute, imageBytes: image.count,
            succeeded: succeeded, notSucceeded: reasons,
            endToEndSeconds: seconds, perDeviceSecondsP50: Timing.quantile(times, 0.5),
            perDeviceSecondsP90: Timing.quantile(times, 0.9), perDeviceSecondsP99: Timing.quantile(times, 0.99),
            selfTestWaitSecondsP50: Timing.quantile(selfTestWaits, 0.5),
            selfTestWaitSecondsP99: Timing.quantile(selfTestWaits, 0.99),
            selfTestWaitSecondsMax: selfTestWaits.last ?? 0,
            blockLatencyMillisecondsP50: Timing.quantile(blockLatencies, 0.5),
            blockLatencyMillisecondsP99: Timing.quantile(blockLatencies, 0.99),
            blockLatencyMillisecondsMax: blockLatencies.last ?? 0, goodputMiBPerSecond: goodput / 1_048_576,
            rawTLSMiBPerSecond: rawBytesPerSecond / 1_048_576, ratio: goodput / rawBytesPerSecond,
            rawTLSMiBPerSecondRuns: rawRuns.map { $0.bytesPerSecond / 1_048_576 }, serviceCPUSeconds: serviceCPU,
            devicesCPUSeconds: devicesCPU,
            serviceCPUMillisecondsPerMiB: serviceCPUPerMiB,
            rawTLSCPUMillisecondsPerMiB: rawCPU * 1000,
            rawTLSCPUMillisecondsPerMiBRuns: rawRuns.map { $0.cpuSecondsPerMiB * 1000 },
            serviceToRawTLSCPURatio: serviceCPUPerMiB / (rawCPU * 1000), quietBeforeUpdate: quietBeforeUpdate,
            servicePeakMiB: peaks.max() ?? 0, servicePeakMiBPerInstance: peaks,
            devicesProcessPeakMiB: Double(try processMemory("VmHWM")) / 1_048_576,
            databaseTransactionsPerBlock: perBlock(transactions), databaseStatementsPerBlock: perBlock(statements),
            reportCommits: reportCommits,
            fileStoreReads: storeReads, protection: statusAfter.map(\.protection), disturbance: disturbed)
    }

    /// Starts `ota serve` as a child for each instance: the first on the prepared data directory, the others on
    /// copies of its PKI, admin token and data-URL key (docs/deploy.md), all on the shared database.
    private func startInstances(directory: String, ports: [(mqtt: Int, api: Int)], database: PostgresDatabaseURL?)
        throws -> [BenchProcess]
    {
        var services: [BenchProcess] = []
        for (index, port) in ports.enumerated() {
            var data = directory
            if index > 0 {
                data = directory + "/instance-\(index + 1)"
                try SharedInstanceFiles.copy(from: directory, to: data)
            }
            services.append(
                try BenchProcess(
                    path: selfExecutable(),
                    // A fleet in the field connected long before its update, so each reboot's reconnect writes the
                    // device's last-seen time; here the first connections come seconds before the update, and the
                    // default minute would spare the reconnects that write.
                    arguments: [
                        "serve", "--data-dir", data, "--host", "127.0.0.1", "--mqtt-port", "\(port.mqtt)",
                        "--api-port", "\(port.api)", "--last-seen-resolution", "0",
                    ] + (database.map { ["--database", $0.secretURLString] } ?? [])
                        + (eventLoopsPerInstance.map { ["--event-loops", "\($0)"] } ?? []),
                    log: data + "/service.log"))
        }
        return services
    }

    /// Every instance's status, in instance order.
    private static func status(of connections: [APIConnection]) async throws -> [ServiceStatusView] {
        var views: [ServiceStatusView] = []
        for connection in connections {
            views.append(try await connection.withClient { try await $0.get("/status", as: ServiceStatusView.self) })
        }
        return views
    }

    /// Waits until every device has succeeded, failed or stopped with an error (or 30 minutes), printing progress
    /// every few seconds.
    private func waitForOutcomes(_ fleet: SimulatedFleet, from start: ContinuousClock.Instant) async throws {
        var lastReport = start
        while ContinuousClock.now < start + .seconds(1800) {
            let done = fleet.successTimes.count
            let failed = fleet.snapshot.filter { $0.status.phase == .failed }.count
            if done + failed + fleet.failures.count >= devices { return }
            if ContinuousClock.now - lastReport > .seconds(5) {
                progress("  \(done)/\(devices) succeeded" + (failed > 0 ? ", \(failed) failed" : ""))
                lastReport = .now
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The update is done when the service has recorded every device's final report; a device that never sent
    /// one (it stopped with an error) leaves its execution open, so this gives up after a minute.
    private func waitUntilRecorded(_ connection: APIConnection) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        try await connection.withClient { api in
            while ContinuousClock.now < deadline {
                let p = (try await api.get("/jobs/AFR_OTA-bench", as: JobView.self)).progress
                if p.succeeded + p.failed + p.rejected + p.timedOut + p.canceled + p.removed >= devices { return }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// SUCCEEDED executions as the service recorded them, and the others grouped by status and the device's
    /// reason, most common first.
    private func outcomes(_ connection: APIConnection) async throws -> (succeeded: Int, others: [String]) {
        let executions: [JobExecution] = try await connection.withClient {
            try await $0.get("/jobs/AFR_OTA-bench/executions", as: [JobExecution].self)
        }
        let others = Dictionary(grouping: executions.filter { $0.status != .succeeded }) {
            "\($0.status.rawValue) \($0.statusDetails ?? "")"
        }.sorted { $0.value.count > $1.value.count }.map { "\($0.value.count) × \($0.key)" }
        return (executions.count { $0.status == .succeeded }, others)
    }

    /// Waits until `what` (whose threads' run time `runNanoseconds` gives) used at most 2 % of a core over half a
    /// second, so that what the devices' connections left to do is done before a measurement starts. Gives up after
    /// 15 s, says so, and returns false.
    private static func waitUntilQuiet(_ what: String, runNanoseconds: () throws -> UInt64) async throws -> Bool {
        let window = Duration.milliseconds(500)
        let deadline = ContinuousClock.now + .seconds(15)
        var before = try runNanoseconds()
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: window)
            let now = try runNanoseconds()
            // A thread that ended takes its run time with it: a smaller sum only starts a new window.
            if now >= before, now - before <= 10_000_000 { return true }
            before = now
        }
        progress("\(what) did not go quiet within 15 s; measuring anyway")
        return false
    }

    /// Raw TLS bulk moving `bytes` over min(devices, 1000) loopback connections: its throughput, and the CPU this
    /// process spent per MiB, both ends and the handshakes included.
    private func rawTLSBaseline(_ pki: ServicePKI, bytes: Int) async throws -> (
        bytesPerSecond: Double, cpuSecondsPerMiB: Double
    ) {
        let cpuBefore = try processCPUSeconds()
        let bytesPerSecond = try await rawTLSBulk(pki, bytes: bytes)
        return (bytesPerSecond, (try processCPUSeconds() - cpuBefore) / (Double(bytes) / 1_048_576))
    }

    private func rawTLSBulk(_ pki: ServicePKI, bytes: Int) async throws -> Double {
        let issued = try pki.issueDevice("bench-raw")
        let clientContext = try NIOSSLContext(
            configuration: MQTTClientConfiguration.mutualTLS(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(issued.certificatePEM.utf8)),
                privateKey: try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem),
                trustedServerCAs: try NIOSSLCertificate.fromPEMFile(pki.caCertificatePath)))
        let connections = min(devices, 1000)
        return try await RawTLSBulk.throughput(
            serverContext: try JobsBenchmark.serverContext(pki),
            clientContexts: Array(repeating: clientContext, count: connections),
            bytesPerConnection: bytes / connections)
    }

    /// Two runs of the same run's fleet, then what the second costs relative to the first.
    static func renderSideBySide(
        _ first: Result, _ second: Result, title: String, ratios: [(name: String, value: Double, note: String)]
    ) -> String {
        ([render(first), "", render(second), "", title]
            + ratios.map {
                "  " + $0.name.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%.2fx", $0.value)
                    + $0.note
            }).joined(separator: "\n")
    }

    public static func render(_ r: Result) -> String {
        func f(_ value: Double) -> String { String(format: "%.2f", value) }
        let rows: [(String, String)] = [
            ("succeeded", "\(r.succeeded)/\(r.devices)" + r.notSucceeded.map { "\n    " + $0 }.joined()),
            ("end to end", "\(f(r.endToEndSeconds)) s"),
            (
                "per device p50 / p90 / p99",
                "\(f(r.perDeviceSecondsP50)) / \(f(r.perDeviceSecondsP90)) / \(f(r.perDeviceSecondsP99)) s"
            ),
            (
                "job after reboot p50 / p99 / max",
                "\(f(r.selfTestWaitSecondsP50)) / \(f(r.selfTestWaitSecondsP99)) / \(f(r.selfTestWaitSecondsMax)) s "
                    + "(self-test limit 16 s)"
            ),
            (
                "block latency p50 / p99 / max",
                "\(f(r.blockLatencyMillisecondsP50)) / \(f(r.blockLatencyMillisecondsP99)) / "
                    + "\(f(r.blockLatencyMillisecondsMax)) ms"
            ),
            ("goodput", "\(f(r.goodputMiBPerSecond)) MiB/s"),
            ("raw TLS bulk, same bytes", "\(f(r.rawTLSMiBPerSecond)) MiB/s"),
            ("ratio goodput / raw TLS", "\(f(r.ratio))x (target >= 0.5x)"),
            (
                "CPU during the update",
                "service \(f(r.serviceCPUSeconds)) s, devices \(f(r.devicesCPUSeconds)) s"
                    + (r.balancerCPUSeconds.map { ", HAProxy \(f($0)) s" } ?? "")
            ),
            (
                "CPU per MiB",
                "service \(f(r.serviceCPUMillisecondsPerMiB)) ms; "
                    + "raw TLS, both ends \(f(r.rawTLSCPUMillisecondsPerMiB)) ms (the cheaper of "
                    + r.rawTLSCPUMillisecondsPerMiBRuns.map(f).joined(separator: " and ") + "): "
                    + "\(f(r.serviceToRawTLSCPURatio))x (target <= 2x)"
            ),
            (
                "service peak memory (ota serve)",
                "\(f(r.servicePeakMiB)) MiB (target < 2048 MiB at 10,000 devices)"
                    + (r.instances > 1
                        ? "; per instance " + r.servicePeakMiBPerInstance.map(f).joined(separator: ", ") : "")
            ),
            (
                "database transactions per block",
                r.databaseTransactionsPerBlock.map { "\(String(format: "%.4f", $0)) (target ≈ 0)" } ?? "— (SQLite)"
            ),
            (
                "database statements per block",
                r.databaseStatementsPerBlock.map { "\(String(format: "%.4f", $0)) (round trips)" } ?? "— (SQLite)"
            ),
            (
                "devices' reports committed",
                "\(r.reportCommits.reports) in \(r.reportCommits.batches) transactions ("
                    + String(format: "%.1f", Double(r.reportCommits.reports) / Double(max(r.reportCommits.batches, 1)))
                    + " a commit)"
            ),
            ("devices' process peak memory", "\(f(r.devicesProcessPeakMiB)) MiB"),
            ("file store reads", "\(r.fileStoreReads) (whole image; target 1, not one per device)"),
        ]
        let rollout = r.maxPerMinute.map { "; rollout \($0)/min" } ?? ""
        return
            ([
                "ota bench fleet (\(r.build) build; \(r.devices) devices × \(r.imageBytes) bytes over \(r.delivery)"
                    + "\(rollout); \(r.instances) × ota serve"
                    + (r.eventLoopsPerInstance.map { " (\($0) event loop\($0 == 1 ? "" : "s") each)" } ?? "")
                    + " on \(r.database)"
                    + (r.balancer.map { " behind \($0)" } ?? "") + ")"
            ]
            + rows.map { "  " + $0.0.padding(toLength: 34, withPad: " ", startingAt: 0) + $0.1 }
            + (r.build == "debug" ? ["  note: debug build; use swift run -c release ota bench fleet"] : []))
            .joined(separator: "\n")
    }
}

/// Connections to a service's management API, for the fleet bench.
public protocol BenchManagementAPI: Sendable {
    /// Opens a client for the API at `server` (a URL) with the admin token and CA in `dataDirectory`, runs `body`,
    /// and always closes the client.
    func withClient<T>(
        server: String, dataDirectory: String, _ body: (any BenchAPIClient) async throws -> T
    ) async throws -> T
}

/// The management API calls the fleet bench makes.
public protocol BenchAPIClient {
    /// GET /api/v1`path`, decoded.
    func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T
    /// POST /api/v1`path` with a JSON body.
    func post(_ path: String, json: [String: Any]) async throws
}

/// The API of the service under test, at a known place.
private struct APIConnection {
    let api: any BenchManagementAPI
    let server: String
    let dataDirectory: String

    func withClient<T>(_ body: (any BenchAPIClient) async throws -> T) async throws -> T {
        try await api.withClient(server: server, dataDirectory: dataDirectory, body)
    }
}
