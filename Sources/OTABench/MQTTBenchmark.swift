import Foundation
import MQTT
import NIOSSL
import RawClients

/// `ota bench mqtt`: our MQTT server against mosquitto, each in its own process, under the same load generator —
/// memory per idle TLS connection; QoS 0 and QoS 1 throughput, the server's CPU per message and latency.
public struct MQTTBenchmark: Sendable {
    /// Idle TLS connections to hold open.
    public var connections: Int
    /// Publishing clients in the throughput runs.
    public var publishers: Int
    /// Messages each publisher sends per run.
    public var messages: Int
    /// Payload bytes per message.
    public var payload: Int

    /// The smallest payload: every one starts with its send time.
    public static let minimumPayload = BenchLoadGenerator.stampSize

    public init(connections: Int, publishers: Int, messages: Int, payload: Int) {
        self.connections = connections
        self.publishers = publishers
        self.messages = messages
        self.payload = payload
    }

    /// One publishing run against one server.
    public struct PublishFigures: Encodable {
        let messagesPerSecond: Double
        let delivered: Int
        /// The server process's time on a CPU (its threads' schedstat, in nanoseconds) from the first publish to the
        /// end of the deliveries, per delivered message: what the server spends, apart from the load generator that
        /// shares the machine and from the publishers' handshakes.
        let serverCPUMicrosecondsPerMessage: Double
        /// The server's read- and write-family system calls over the same span (socket reads and writes, and the
        /// event loops' wake-ups through eventfd), per delivered message.
        let serverSystemCallsPerMessage: Double
        let latencyMillisecondsP50: Double
        let latencyMillisecondsP99: Double
    }

    public struct ServerFigures: Encodable {
        let server: String
        let idleConnections: Int
        let connectSeconds: Double
        let bytesPerConnection: Double
        let qos0: PublishFigures
        let qos1: PublishFigures
    }

    /// Ours ÷ mosquitto for one QoS.
    public struct PublishRatios: Encodable {
        let throughput: Double
        let serverCPUPerMessage: Double
        let latencyP99: Double

        init(ours: PublishFigures, mosquitto: PublishFigures) {
            throughput = ours.messagesPerSecond / max(mosquitto.messagesPerSecond, 1)
            serverCPUPerMessage =
                ours.serverCPUMicrosecondsPerMessage / max(mosquitto.serverCPUMicrosecondsPerMessage, 0.001)
            latencyP99 = ours.latencyMillisecondsP99 / max(mosquitto.latencyMillisecondsP99, 0.001)
        }
    }

    public struct Result: Encodable {
        let build: String
        let ours: ServerFigures
        let mosquitto: ServerFigures
        let memoryRatio: Double
        let qos0: PublishRatios
        let qos1: PublishRatios
    }

    /// Runs ours (`ota bench mqtt-server`, started from this executable) and mosquitto in turn.
    public func run() async throws -> Result {
        let directory = try Timing.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let dir = directory.path
        let context = try BenchPKI.create(in: dir)
        let mosquittoPath = try Timing.locate("mosquitto", extraDirectories: ["/usr/sbin", "/sbin"])

        let oursPort = try LoopbackPort.free()
        let ours = try await measure(
            name: "ours", port: oursPort, context: context,
            launch: {
                try BenchProcess(
                    path: selfExecutable(), arguments: ["bench", "mqtt-server", "--dir", dir, "--port", "\(oursPort)"])
            })
        let mosquittoPort = try LoopbackPort.free()
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
            qos0: PublishRatios(ours: ours.qos0, mosquitto: mosquitto.qos0),
            qos1: PublishRatios(ours: ours.qos1, mosquitto: mosquitto.qos1))
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
        // The idle clients stay connected, each with its subscription, while the publishers run: a broker serving a
        // fleet routes every message past all the subscriptions it holds.
        progress("\(name): throughput, \(publishers) publishers × \(messages) messages × \(payload) bytes")
        let qos0 = try await publish(qos: .atMostOnce, generator: generator, server: process)
        let qos1 = try await publish(qos: .atLeastOnce, generator: generator, server: process)
        await generator.close(idle)
        return ServerFigures(
            server: name, idleConnections: idle.count, connectSeconds: connectSeconds,
            bytesPerConnection: Double(max(after - before, 0)) / Double(max(idle.count, 1)), qos0: qos0, qos1: qos1)
    }

    private func publish(qos: QoS, generator: BenchLoadGenerator, server: BenchProcess) async throws -> PublishFigures {
        let run = try await generator.throughput(
            publishers: publishers, messages: messages, payload: payload, qos: qos,
            usage: {
                BenchLoadGenerator.ServerUsage(
                    cpuNanoseconds: try server.runNanoseconds(), systemCalls: try server.systemCalls())
            })
        let delivered = Double(max(run.delivered, 1))
        return PublishFigures(
            messagesPerSecond: run.rate, delivered: run.delivered,
            serverCPUMicrosecondsPerMessage: Double(run.serverUsage.cpuNanoseconds) / 1000 / delivered,
            serverSystemCallsPerMessage: Double(run.serverUsage.systemCalls) / delivered,
            latencyMillisecondsP50: run.latencyMillisecondsP50, latencyMillisecondsP99: run.latencyMillisecondsP99)
    }

    /// The figures as a table; the load (publishers, messages, payload) is this benchmark's.
    public func render(_ result: Result) -> String {
        func kib(_ bytes: Double) -> String { String(format: "%.1f KiB", bytes / 1024) }
        func rate(_ value: Double) -> String { String(format: "%.0f msg/s", value) }
        func micros(_ value: Double) -> String { String(format: "%.1f µs", value) }
        func latency(_ run: PublishFigures) -> String {
            String(format: "%.1f / %.1f ms", run.latencyMillisecondsP50, run.latencyMillisecondsP99)
        }
        func row(_ label: String, _ ours: String, _ theirs: String, _ ratio: String) -> String {
            label.padding(toLength: 32, withPad: " ", startingAt: 0)
                + ours.padding(toLength: 18, withPad: " ", startingAt: 0)
                + theirs.padding(toLength: 18, withPad: " ", startingAt: 0) + ratio
        }
        let expected = publishers * messages
        var rows = [
            "ota bench mqtt (\(result.build) build; \(result.ours.idleConnections) idle TLS connections; "
                + "\(publishers) publishers × \(messages) × \(payload) B)",
            row("", "ours", "mosquitto", "ratio"),
            row(
                "memory per idle connection", kib(result.ours.bytesPerConnection),
                kib(result.mosquitto.bytesPerConnection),
                String(format: "%.2fx (target <= 1.0x)", result.memoryRatio)),
        ]
        let runs = [
            ("QoS 0", result.ours.qos0, result.mosquitto.qos0, result.qos0),
            ("QoS 1", result.ours.qos1, result.mosquitto.qos1, result.qos1),
        ]
        for (label, ours, theirs, ratios) in runs {
            rows += [
                row(
                    "\(label) throughput", rate(ours.messagesPerSecond), rate(theirs.messagesPerSecond),
                    String(format: "%.2fx (target >= 1.2x)", ratios.throughput)),
                row(
                    "\(label) server CPU per message", micros(ours.serverCPUMicrosecondsPerMessage),
                    micros(theirs.serverCPUMicrosecondsPerMessage),
                    String(format: "%.2fx", ratios.serverCPUPerMessage)),
                row(
                    "\(label) server reads+writes/msg", String(format: "%.2f", ours.serverSystemCallsPerMessage),
                    String(format: "%.2f", theirs.serverSystemCallsPerMessage), ""),
                row(
                    "\(label) latency p50 / p99", latency(ours), latency(theirs),
                    String(format: "%.2fx at p99 (target <= 1.0x)", ratios.latencyP99)),
                row("\(label) delivered", "\(ours.delivered)/\(expected)", "\(theirs.delivered)/\(expected)", ""),
            ]
        }
        rows.append(
            row(
                "time to open the connections", String(format: "%.1f s", result.ours.connectSeconds),
                String(format: "%.1f s", result.mosquitto.connectSeconds), ""))
        return rows.joined(separator: "\n")
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
