import ArgumentParser
import OTABench

/// `ota bench mqtt` — runs MQTTBenchmark.
struct BenchMQTTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mqtt",
        abstract:
            "Our MQTT server against mosquitto, same load generator: memory per idle TLS connection, QoS 0/1 "
            + "throughput, server CPU per message and latency.",
        discussion: """
            Each server runs in its own process on 127.0.0.1 with mutual TLS. The idle clients each subscribe to a \
            filter of their own (idle/INDEX/#) and stay connected through the publishing runs; memory is the growth \
            of the server's resident set while it holds them, divided by their number. Throughput: publishers send \
            messages as fast as the protocol lets them (QoS 1 waits for each PUBACK) to one subscriber of bench/#; \
            the figure is messages delivered per second. The server's CPU per delivered message is its threads' run \
            time (/proc schedstat) from the first publish to the end of the deliveries, so it counts neither the load \
            generator that shares the machine nor the clients' handshakes. Each payload carries its send time, so the \
            subscriber measures every message's latency (p50, p99). Targets (issue 17): memory per connection <= \
            1.0x mosquitto, throughput >= 1.2x, p99 latency no worse.
            """)

    @Option(help: "Idle TLS connections to hold open.")
    var connections = 10_000

    @Option(help: "Publishing clients in the throughput runs.")
    var publishers = 100

    @Option(help: "Messages each publisher sends per run.")
    var messages = 200

    @Option(help: "Payload bytes per message (at least 8: each starts with its send time).")
    var payload = 1024

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard connections >= 1, publishers >= 1, messages >= 1 else {
            throw ValidationError("--connections, --publishers and --messages must be at least 1.")
        }
        guard payload >= MQTTBenchmark.minimumPayload else {
            throw ValidationError(
                "--payload must be at least \(MQTTBenchmark.minimumPayload) bytes: it carries the send time.")
        }
    }

    func run() async throws {
        raiseFileDescriptorLimit()
        let benchmark = MQTTBenchmark(
            connections: connections, publishers: publishers, messages: messages, payload: payload)
        let result = try await benchmark.run()
        try output.emit(result) { benchmark.render(result) }
    }
}
