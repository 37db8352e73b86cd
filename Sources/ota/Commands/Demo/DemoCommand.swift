import ArgumentParser
import Foundation
import OTABench
import OTADemo

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
            untrusted key (every device refuses it). Exits 0 only if every outcome happened as expected.
            """)

    @Option(help: "Simulated devices at the start.") var devices = 20
    @Flag(help: "Leave the service running afterwards and print how to use the CLI against it.") var keep = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (4...500).contains(devices) else { throw ValidationError("--devices must be 4…500") }
    }

    func run() async throws {
        bootstrapQuietLogging()
        let directory = try Timing.scratchDirectory()
        let board = ProgressBoard(quiet: output.json)
        let world = try await DemoWorld(dataDirectory: directory.path, apiPort: 0)
        let summary = await DemoScript(world: world, board: board, devices: devices).summary()
        try output.emit(summary) { summary.table }
        if keep {
            board.say(Self.keepInstructions(world))
            await ServeCommand.waitForTermination()
        }
        await world.fleet.stopAll()
        await world.server.stop()
        if !keep { try? FileManager.default.removeItem(at: directory) }
        if !summary.ok { throw ExitCode(1) }
    }

    static func keepInstructions(_ world: DemoWorld) -> String {
        let api = "https://localhost:\(world.server.apiPort ?? 0)"
        return """

            The service keeps running (Ctrl-C stops it). Data: \(world.dataDirectory)
              ota things list --server \(api) --data-dir \(world.dataDirectory)
              ota jobs list --server \(api) --data-dir \(world.dataDirectory)
              ota updates show v1-1-0 --server \(api) --data-dir \(world.dataDirectory)
            Devices connect to MQTT port \(world.mqttPort).
            """
    }
}
