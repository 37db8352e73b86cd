import ArgumentParser
import Foundation
import OTABench
import OTAService

/// `ota bench fleet` — one full update of N simulated devices against `ota serve` running as a child process.
struct BenchFleetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Update N simulated ESP32s end to end and compare goodput with raw TLS bulk throughput.",
        discussion: """
            The service runs as `ota serve` in its own process, so its peak memory (VmHWM) is its own; the devices \
            run in this process and share the machine's cores with it. End-to-end time covers download (MQTT/TLS \
            blocks, or HTTPS ranges with --protocol http), signature check, secure boot block, reboot, self-test and \
            SUCCEEDED. Raw TLS bulk moves the \
            same bytes over min(N, 1000) loopback connections in this process.
            """)

    @Option(help: "Simulated devices.") var devices = 1000
    @Option(
        help: "Update image size, e.g. 1MiB.",
        transform: parseBenchImageSize)
    var imageSize = 1 << 20
    @Option(help: "Rollout rate: at most this many devices (1–1000) start per minute (default: all at once).")
    var maxPerMinute: Int?
    @Option(
        help: ArgumentHelp(
            "mqtt: stream blocks; http: the service's HTTPS data plane, measured beside an MQTT run of the same fleet.",
            valueName: "mqtt|http"))
    var `protocol`: BenchDelivery = .mqtt
    @Option(
        help: ArgumentHelp(
            "Run the services on this PostgreSQL database (postgres://…) and, first, the same fleet on one SQLite "
                + "instance as the baseline.",
            discussion: "The database should be empty or a bench's own: the bench creates its things there."))
    var database: String?
    @Option(help: "ota serve processes on --database; devices are spread over them evenly (default 1).")
    var instances = 1
    @Option(
        help: ArgumentHelp(
            "Each instance's `ota serve --event-loops` (default: one per core for one instance; for several, the "
                + "machine's cores shared out, at least 1 each).",
            discussion: "The instances share this machine's cores as instances on their own machines would not; "
                + "a thread per core each would oversubscribe them. The SQLite baseline keeps one per core."))
    var instanceEventLoops: Int?
    @Flag(
        name: .customLong("through-haproxy"),
        help: ArgumentHelp(
            "With --database: the devices connect through HAProxy (Debian's haproxy), configured as docs/deploy.md "
                + "does, which spreads them over the instances; the SQLite baseline stays direct."))
    var throughHAProxy = false
    @Option(
        help: ArgumentHelp(
            "With --database: run the SQLite baseline and the instances this many times, alternated, and report "
                + "each round's ratio, their median and range (one round's ratio swings with the machine's load)."))
    var rounds = 1
    @OptionGroup var output: OutputOptions

    func validate() throws {
        // The service's limit (AWS IoT's too), checked before minutes of provisioning rather than after.
        if let maxPerMinute, !(1...1000).contains(maxPerMinute) {
            throw ValidationError("--max-per-minute must be 1–1000")
        }
        guard devices >= 1 else { throw ValidationError("--devices must be at least 1") }
        guard (1...16).contains(instances) else { throw ValidationError("--instances must be 1–16") }
        if instances > 1 && database == nil { throw ValidationError("--instances needs --database postgres://…") }
        if throughHAProxy && database == nil {
            throw ValidationError("--through-haproxy needs --database postgres://…")
        }
        if let instanceEventLoops, !(1...256).contains(instanceEventLoops) {
            throw ValidationError("--instance-event-loops must be 1–256")
        }
        guard (1...20).contains(rounds) else { throw ValidationError("--rounds must be 1–20") }
        if rounds > 1 && database == nil { throw ValidationError("--rounds needs --database postgres://…") }
        if database != nil && `protocol` == .http {
            throw ValidationError("--database compares instances over MQTT; leave --protocol out")
        }
        if let database {
            do { _ = try PostgresDatabaseURL(database) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() async throws {
        bootstrapQuietLogging()
        raiseFileDescriptorLimit()
        var bench = FleetBenchmark(
            devices: devices, imageSize: imageSize, maxPerMinute: maxPerMinute, api: CLIBenchAPI())
        if let database {
            var comparisons: [FleetScaleComparison] = []
            for round in 1...rounds {
                if rounds > 1 { FileHandle.standardError.write(Data("round \(round) of \(rounds)\n".utf8)) }
                let baseline = try await bench.run()
                var cluster = bench
                cluster.database = database
                cluster.instances = instances
                cluster.eventLoopsPerInstance =
                    instanceEventLoops
                    ?? (instances > 1 ? max(1, ProcessInfo.processInfo.activeProcessorCount / instances) : nil)
                cluster.throughHAProxy = throughHAProxy
                comparisons.append(FleetScaleComparison(single: baseline, cluster: try await cluster.run()))
            }
            guard rounds > 1 else {
                try output.emit(comparisons[0]) { FleetScaleComparison.render(comparisons[0]) }
                return
            }
            let series = FleetScaleSeries(rounds: comparisons)
            try output.emit(series) { FleetScaleSeries.render(series) }
            return
        }
        let mqtt = try await bench.run()
        guard `protocol` == .http else {
            try output.emit(mqtt) { FleetBenchmark.render(mqtt) }
            return
        }
        bench.protocols = ["HTTP"]
        let comparison = FleetProtocolComparison(mqtt: mqtt, http: try await bench.run())
        try output.emit(comparison) { FleetProtocolComparison.render(comparison) }
    }
}

/// `ota bench fleet --protocol`.
enum BenchDelivery: String, ExpressibleByArgument, CaseIterable {
    case mqtt, http
}
