import ArgumentParser
import OTABench

/// `ota bench mqtt` — runs MQTTBenchmark.
struct BenchMQTTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mqtt",
        abstract:
            "Our MQTT server against mosquitto, same load generator: memory per idle TLS connection, QoS 0/1 throughput.",
        discussion: """
            Each server runs in its own process on 127.0.0.1 with mutual TLS; memory is the growth of its resident set \
            while it holds the idle connections, divided by their number. Throughput: publishers send 1 KiB messages \
            as fast as the protocol lets them (QoS 1 waits for each PUBACK) to one subscriber of bench/#; the figure is \
            messages delivered per second. Targets: throughput >= 1.0x mosquitto, memory per connection <= 1.5x.
            """)

    @Option(help: "Idle TLS connections to hold open.")
    var connections = 10_000

    @Option(help: "Publishing clients in the throughput runs.")
    var publishers = 100

    @Option(help: "Messages each publisher sends per run.")
    var messages = 200

    @Option(help: "Payload bytes per message.")
    var payload = 1024

    @OptionGroup var output: OutputOptions

    func run() async throws {
        raiseFileDescriptorLimit()
        let benchmark = MQTTBenchmark(
            connections: connections, publishers: publishers, messages: messages, payload: payload)
        let result = try await benchmark.run()
        try output.emit(result) { benchmark.render(result) }
    }
}
