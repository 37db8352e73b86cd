import ArgumentParser
import Foundation
import OTABench
import OTADemo
import OTAService

/// `ota demo` — the service and a simulated fleet in one process, showing an update end to end.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the service and a simulated ESP32 fleet and show updates end to end.",
        discussion: """
            Starts the service on a temporary data directory, provisions simulated ESP32s (certificates from the \
            service CA, factory firmware 1.0.0, secure boot key fused) in a group, then: rolls out 1.1.0 as a \
            continuous update with a rollout rate; adds a device that gets it on its own; deploys 1.2.0 whose \
            self-test fails (devices roll back, the abort threshold stops the rollout); tries an image signed by an \
            untrusted key (every device refuses it). Exits 0 only if every outcome happened as expected. With \
            --database and --instances, that many instances share a scratch database made on that PostgreSQL \
            server (dropped at the end unless --keep): devices are spread over them, and the demo drives the \
            service through the first, so every update reaches the others' devices through the database.
            """)

    @Option(help: "Simulated devices at the start.") var devices = 20
    @Flag(help: "Leave the service running afterwards and print how to use the CLI against it.") var keep = false
    @Option(
        help: ArgumentHelp(
            "Run on this PostgreSQL server (postgres://USER[:PASSWORD]@HOST[:PORT]/DB) instead of SQLite.",
            discussion: "The demo makes a database of its own there (it needs the CREATEDB privilege)."))
    var database: String?
    @Option(help: "Service instances on --database (1–5); devices are spread over them.") var instances = 1
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (4...500).contains(devices) else { throw ValidationError("--devices must be 4…500") }
        guard (1...5).contains(instances) else { throw ValidationError("--instances must be 1–5") }
        if instances > 1 && database == nil { throw ValidationError("--instances needs --database postgres://…") }
        if let database {
            do { _ = try PostgresDatabaseURL(database) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() async throws {
        bootstrapQuietLogging()
        let directory = try Timing.scratchDirectory()
        let board = ProgressBoard(quiet: output.json)
        let server = try database.map(PostgresDatabaseURL.init)
        var scratch: PostgresDatabaseURL?
        if let server { scratch = try await PostgresScratchDatabase.create(on: server, prefix: "ota_demo_") }
        let world = try await DemoWorld(
            dataDirectory: directory.path, apiPort: 0, database: scratch, instances: instances)
        if let scratch {
            board.say(
                "\(instances) instance(s) on \(scratch), device ports "
                    + world.mqttPorts.map(String.init).joined(separator: ", "))
        }
        let summary = await DemoScript(world: world, board: board, devices: devices).summary()
        try output.emit(summary) { summary.table }
        if keep {
            // The console needs an account with a password: one for the demo, its password shown once here.
            let password = Self.randomPassword()
            _ = try await world.server.operators.create(name: "demo", role: .admin, password: password)
            board.say(Self.keepInstructions(world, consolePassword: password))
            await ServeCommand.waitForTermination()
        }
        await world.fleet.stopAll()
        await world.stop()
        if !keep {
            try? FileManager.default.removeItem(at: directory)
            if let server, let scratch { try? await PostgresScratchDatabase.drop(scratch, from: server) }
        }
        if !summary.ok { throw ExitCode(1) }
    }

    static func keepInstructions(_ world: DemoWorld, consolePassword: String) -> String {
        let api = "https://localhost:\(world.server.apiPort ?? 0)"
        return """

            The service keeps running (Ctrl-C stops it). Data: \(world.dataDirectory)
            Console: \(api)/console  (account demo, password \(consolePassword); the browser will
              ask you to accept the service's own certificate, or trust \(world.dataDirectory)/pki/ca.pem)
              ota things list --server \(api) --data-dir \(world.dataDirectory)
              ota jobs list --server \(api) --data-dir \(world.dataDirectory)
              ota updates show v1-1-0 --server \(api) --data-dir \(world.dataDirectory)
            Devices connect to MQTT port(s) \(world.mqttPorts.map(String.init).joined(separator: ", ")).
            """
    }

    /// 16 characters from an alphabet without look-alikes.
    static func randomPassword() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return String((0..<16).map { _ in alphabet.randomElement()! })
    }
}
