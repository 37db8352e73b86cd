import ArgumentParser
import OTABench

/// `ota bench abuse` — a fleet updated calm, then again while the hardening issue's attacks run against the service.
struct BenchAbuseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abuse",
        abstract: "Update a fleet calm and under attack; compare what the legitimate devices saw.",
        discussion: """
            Each run starts its own `ota serve` (default limits, SQLite). The attacks run in this process from the \
            fleet's connection until every device is done: unauthenticated sockets from several 127.0.0.x addresses, \
            silent and slowloris API sockets, a device that never acknowledges QoS 1, one that stops reading and \
            floods GetStream, one that floods Jobs requests with big JSON, one that publishes retained 100 KB \
            messages. Target: every legitimate device succeeds, block latency p99 within 2x of the calm run, the \
            service's memory bounded.
            """)

    @Option(help: "Legitimate simulated devices.") var devices = 100
    @Option(
        help: "Update image size, e.g. 1MiB.",
        transform: parseBenchImageSize)
    var imageSize = 1 << 20
    @Option(help: "Source addresses holding unauthenticated device-port sockets (127.0.0.2 …, 1–200).")
    var attackAddresses = 10
    @Option(help: "Sockets each of those addresses tries to hold open (1–10000).")
    var socketsPerAddress = 150
    @Option(help: "Seconds the attacks run before the update starts (the default outlasts the service's deadlines).")
    var buildUp = 35
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (1...10_000).contains(devices) else { throw ValidationError("--devices must be 1–10000") }
        guard (1...200).contains(attackAddresses) else { throw ValidationError("--attack-addresses must be 1–200") }
        guard (1...10_000).contains(socketsPerAddress) else {
            throw ValidationError("--sockets-per-address must be 1–10000")
        }
        guard (0...600).contains(buildUp) else { throw ValidationError("--build-up must be 0–600 seconds") }
    }

    func run() async throws {
        bootstrapQuietLogging()
        raiseFileDescriptorLimit()
        var strength = HostileLoad.Strength()
        strength.addresses = attackAddresses
        strength.socketsPerAddress = socketsPerAddress
        strength.buildUp = .seconds(buildUp)
        let bench = AbuseBenchmark(
            fleet: FleetBenchmark(devices: devices, imageSize: imageSize, maxPerMinute: nil, api: CLIBenchAPI()),
            strength: strength)
        let result = try await bench.run()
        try output.emit(result) { AbuseBenchmark.render(result) }
    }
}
