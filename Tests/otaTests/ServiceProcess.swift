import Foundation
import TestSupport
import Testing

/// `ota serve` as its own process on free loopback ports, driven through the `ota` CLI like a person would.
final class ServiceProcess: @unchecked Sendable {
    let directory: TemporaryDirectory
    let dataDir: String
    private(set) var mqttPort = 0
    private(set) var apiPort = 0
    /// Further `ota serve` options (`--verbose`).
    let options: [String]
    /// The service's whole environment (S3 credentials); nil: this process's.
    let environment: [String: String]?
    private(set) var process: BackgroundProcess

    init(options: [String] = [], environment: [String: String]? = nil) async throws {
        directory = try TemporaryDirectory("ota-serve")
        dataDir = directory.path("data")
        self.options = options
        self.environment = environment
        // A port free when it was picked can be taken before `ota serve` binds it: seen in CI when ports came from
        // bind(0), and once since, cause unknown (the error now says who held it). The first start then tries other
        // ports; a restart keeps its ports.
        var attempt = 1
        while true {
            let ports = (mqtt: try freeLoopbackPort(), api: try freeLoopbackPort())
            do {
                process = try await Self.launch(
                    dataDir: dataDir, mqttPort: ports.mqtt, apiPort: ports.api, options: options,
                    environment: environment)
                (mqttPort, apiPort) = ports
                return
            } catch let error as ServiceProcessError where error.portTaken && attempt < 3 {
                print(error.description)
                try? FileManager.default.removeItem(atPath: dataDir)  // so the next one is a first start too
                attempt += 1
            }
        }
    }

    private static func launch(
        dataDir: String, mqttPort: Int, apiPort: Int, options: [String], environment: [String: String]?
    ) async throws -> BackgroundProcess {
        let process = try BackgroundProcess(
            try OTACLI.executable,
            [
                "serve", "--data-dir", dataDir, "--host", "127.0.0.1", "--mqtt-port", "\(mqttPort)", "--api-port",
                "\(apiPort)",
                // Deadlines for real networks are tight for a loaded test machine (see MQTTAdmissionLimits.underTestLoad).
                "--mqtt-handshake-timeout", "120", "--mqtt-connect-timeout", "120", "--api-handshake-timeout", "120",
            ] + options, environment: environment)
        let deadline = Date().addingTimeInterval(20)
        while !process.text.contains("SwiftOTA service running") {
            guard process.isRunning, Date() < deadline else {
                process.kill()
                let portTaken = process.text.contains("Address already in use")
                let holders = portTaken ? await Self.holders(of: [mqttPort, apiPort]) : ""
                throw ServiceProcessError(
                    description: "ota serve did not start:\n\(process.text)\(holders)", portTaken: portTaken)
            }
            try await Task.sleep(for: .milliseconds(20))  // not usleep: a start takes seconds, the thread is shared
        }
        return process
    }

    /// The sockets on `ports` (`ss -tanp`), to say who took a port the service could not listen on.
    private static func holders(of ports: [Int]) async -> String {
        let sockets = (try? await ExternalTools.run("ss", ["-tanp"]))?.stdout ?? ""
        let lines = sockets.split(separator: "\n").filter { line in ports.contains { line.contains(":\($0) ") } }
        return "\nports \(ports.map(String.init).joined(separator: ", ")) held by:\n" + lines.joined(separator: "\n")
    }

    /// SIGKILL: no shutdown, no flush — what a power cut or the OOM killer does.
    func kill() { process.kill() }

    /// Starts the service again on the same data directory and ports.
    func restart() async throws {
        process = try await Self.launch(
            dataDir: dataDir, mqttPort: mqttPort, apiPort: apiPort, options: options, environment: environment)
    }

    /// `ota <arguments> --server … --data-dir …`, requiring success.
    @discardableResult
    func cli(_ arguments: [String]) async throws -> String {
        let result = try await OTACLI.run(
            arguments + ["--server", "https://localhost:\(apiPort)", "--data-dir", dataDir])
        guard result.status == 0 else {
            throw ServiceProcessError(description: "ota \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
        return result.stdout
    }

    /// The same with `--json`, parsed.
    func json(_ arguments: [String]) async throws -> Any {
        try await JSONSerialization.jsonObject(with: Data(try cli(arguments + ["--json"]).utf8))
    }

    func stop() { process.kill() }
}

struct ServiceProcessError: Error, CustomStringConvertible {
    let description: String
    /// It could not listen: a port was taken.
    var portTaken = false
}
