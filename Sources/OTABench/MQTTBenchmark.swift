import Foundation
import MQTT
import NIOSSL

/// `ota bench mqtt`: our MQTT server against mosquitto, each in its own process, under the same load generator —
/// memory per idle TLS connection, QoS 0 and QoS 1 throughput.
public struct MQTTBenchmark: Sendable {
    /// Idle TLS connections to hold open.
    public var connections: Int
    /// Publishing clients in the throughput runs.
    public var publishers: Int
    /// Messages each publisher sends per run.
    public var messages: Int
    /// Payload bytes per message.
    public var payload: Int

    public init(connections: Int, publishers: Int, messages: Int, payload: Int) {
        self.connections = connections
        self.publishers = publishers
        self.messages = messages
        self.payload = payload
    }

    public struct ServerFigures: Encodable {
        let server: String
        let idleConnections: Int
        let connectSeconds: Double
        let bytesPerConnection: Double
        let qos0MessagesPerSecond: Double
        let qos0Delivered: Int
        let qos1MessagesPerSecond: Double
        let qos1Delivered: Int
    }

    public struct Result: Encodable {
        let build: String
        let ours: ServerFigures
        let mosquitto: ServerFigures
        let memoryRatio: Double
        let qos0ThroughputRatio: Double
        let qos1ThroughputRatio: Double
    }

    /// Runs ours (`ota bench mqtt-server`, started from this executable) and mosquitto in turn.
    public func run() async throws -> Result {
        let directory = try Timing.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let dir = directory.path
        let context = try BenchPKI.create(in: dir)
        let mosquittoPath = try Timing.locate("mosquitto", extraDirectories: ["/usr/sbin", "/sbin"])

        let oursPort = try freePort()
        let ours = try await measure(
            name: "ours", port: oursPort, context: context,
            launch: {
                try BenchProcess(
                    path: selfExecutable(), arguments: ["bench", "mqtt-server", "--dir", dir, "--port", "\(oursPort)"])
            })
        let mosquittoPort = try freePort()
        // As root, mosquitto switches to its own user, which could not read our 0600 server key.
        try """
        listener \(mosquittoPort) 127.0.0.1
        cafile \(dir)/ca.pem
        certfile \(dir)/server.pem
        keyfile \(dir)/server.key
        require_certificate true
        allow_anonymous true
        max_connections -1
        max_queued_messages 100000
        persistence false
        log_type none
        \(getuid() == 0 ? "user root" : "")

        """.write(toFile: dir + "/mosquitto.conf", atomically: true, encoding: .utf8)
        let mosquitto = try await measure(
            name: "mosquitto", port: mosquittoPort, context: context,
            launch: { try BenchProcess(path: mosquittoPath, arguments: ["-c", dir + "/mosquitto.conf"]) })

        return Result(
            build: Timing.buildConfiguration, ours: ours, mosquitto: mosquitto,
            memoryRatio: ours.bytesPerConnection / max(mosquitto.bytesPerConnection, 1),
            qos0ThroughputRatio: ours.qos0MessagesPerSecond / max(mosquitto.qos0MessagesPerSecond, 1),
            qos1ThroughputRatio: ours.qos1MessagesPerSecond / max(mosquitto.qos1MessagesPerSecond, 1))
    }

    private func measure(
        name: String, port: Int, context: NIOSSLContext, launch: () throws -> BenchProcess
    ) async throws -> ServerFigures {
        let process = try launch()
        defer { process.kill() }
        try await waitForPort(port, process: process, name: name)
        let generator = BenchLoadGenerator(port: port, context: context)
        let before = try process.residentBytes()
        progress("\(name): opening \(connections) idle TLS connections")
        let start = ContinuousClock.now
        let idle = try await generator.openIdle(count: connections) { done in
            if done % 1000 == 0 { progress("\(name): \(done)/\(connections) connected") }
        }
        let connectSeconds = Timing.milliseconds(ContinuousClock.now - start) / 1000
        try await Task.sleep(for: .seconds(1))
        let after = try process.residentBytes()
        await generator.close(idle)
        progress("\(name): throughput, \(publishers) publishers × \(messages) messages × \(payload) bytes")
        let qos0 = try await generator.throughput(
            publishers: publishers, messages: messages, payload: payload, qos: .atMostOnce)
        let qos1 = try await generator.throughput(
            publishers: publishers, messages: messages, payload: payload, qos: .atLeastOnce)
        return ServerFigures(
            server: name, idleConnections: idle.count, connectSeconds: connectSeconds,
            bytesPerConnection: Double(max(after - before, 0)) / Double(max(idle.count, 1)),
            qos0MessagesPerSecond: qos0.rate, qos0Delivered: qos0.delivered, qos1MessagesPerSecond: qos1.rate,
            qos1Delivered: qos1.delivered)
    }

    /// The figures as a table; the load (publishers, messages, payload) is this benchmark's.
    public func render(_ result: Result) -> String {
        func kib(_ bytes: Double) -> String { String(format: "%.1f KiB", bytes / 1024) }
        func rate(_ value: Double) -> String { String(format: "%.0f msg/s", value) }
        func row(_ label: String, _ ours: String, _ theirs: String, _ ratio: String) -> String {
            label.padding(toLength: 30, withPad: " ", startingAt: 0)
                + ours.padding(toLength: 16, withPad: " ", startingAt: 0)
                + theirs.padding(toLength: 16, withPad: " ", startingAt: 0) + ratio
        }
        let expected = publishers * messages
        return [
            "ota bench mqtt (\(result.build) build; \(result.ours.idleConnections) idle TLS connections; "
                + "\(publishers) publishers × \(messages) × \(payload) B)",
            row("", "ours", "mosquitto", "ratio"),
            row(
                "memory per idle connection", kib(result.ours.bytesPerConnection),
                kib(result.mosquitto.bytesPerConnection),
                String(format: "%.2fx (target <= 1.5x)", result.memoryRatio)),
            row(
                "QoS 0 throughput", rate(result.ours.qos0MessagesPerSecond),
                rate(result.mosquitto.qos0MessagesPerSecond),
                String(format: "%.2fx (target >= 1.0x)", result.qos0ThroughputRatio)),
            row(
                "QoS 1 throughput", rate(result.ours.qos1MessagesPerSecond),
                rate(result.mosquitto.qos1MessagesPerSecond),
                String(format: "%.2fx (target >= 1.0x)", result.qos1ThroughputRatio)),
            row(
                "QoS 0 delivered", "\(result.ours.qos0Delivered)/\(expected)",
                "\(result.mosquitto.qos0Delivered)/\(expected)", ""),
            row(
                "QoS 1 delivered", "\(result.ours.qos1Delivered)/\(expected)",
                "\(result.mosquitto.qos1Delivered)/\(expected)", ""),
            row(
                "time to open the connections", String(format: "%.1f s", result.ours.connectSeconds),
                String(format: "%.1f s", result.mosquitto.connectSeconds), ""),
        ].joined(separator: "\n")
    }

    private func waitForPort(_ port: Int, process: BenchProcess, name: String) async throws {
        for _ in 0..<200 {
            if canConnect(port) { return }
            guard process.isRunning else { throw BenchError.serverExited(name: name) }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchError.serverNotListening(name: name, port: port, seconds: 10)
    }
}
