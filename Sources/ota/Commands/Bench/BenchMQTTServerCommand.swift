import ArgumentParser
import OTABench

/// `ota bench mqtt-server` — the server side of `ota bench mqtt`, started by it as a child process.
struct BenchMQTTServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mqtt-server", abstract: "Run the bare MQTT server for benchmarks.", shouldDisplay: false)

    @Option(help: "Directory with server.pem, server.key and ca.pem.")
    var dir: String

    @Option(help: "TLS port on 127.0.0.1.")
    var port: Int

    func run() async throws {
        raiseFileDescriptorLimit()
        try await BareMQTTServer.run(dir: dir, port: port)
    }
}
