import ArgumentParser
import ESP32Simulator
import Foundation
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
            untrusted key (every device refuses it). Exits 0 only if every outcome happened as expected.
            """)

    @Option(help: "Simulated devices at the start.") var devices = 20
    @Flag(help: "Leave the service running afterwards and print how to use the CLI against it.") var keep = false
    @OptionGroup var output: OutputOptions

    struct Step: Encodable {
        let name: String
        let expected: String
        let observed: String
        let ok: Bool
        let seconds: Double
    }

    struct Summary: Encodable {
        let devices: Int
        let steps: [Step]
        let ok: Bool
        /// Each device at the end: running version and slot, every app slot (erased, or its image and state).
        let fleet: [DeviceReport]
    }

    func validate() throws {
        guard (4...500).contains(devices) else { throw ValidationError("--devices must be 4…500") }
    }

    func run() async throws {
        bootstrapQuietLogging()
        let directory = try Timing.scratchDirectory()
        let board = ProgressBoard(quiet: output.json)
        let world = try await DemoWorld(dataDirectory: directory.path, apiPort: 0)
        var steps: [Step] = []
        let demo = DemoScript(world: world, board: board, devices: devices)
        do {
            steps = try await demo.run()
        } catch {
            steps.append(Step(name: "demo", expected: "runs", observed: "\(error)", ok: false, seconds: 0))
        }
        let summary = Summary(
            devices: devices + 1, steps: steps, ok: steps.allSatisfy(\.ok),
            fleet: world.fleet.snapshot.map { DeviceReport(thing: $0.thing, status: $0.status) })
        try output.emit(summary) { Self.table(summary) }
        if keep {
            board.say(Self.keepInstructions(world))
            await ServeCommand.waitForTermination()
        }
        await world.fleet.stopAll()
        await world.server.stop()
        if !keep { try? FileManager.default.removeItem(at: directory) }
        if !summary.ok { throw ExitCode(1) }
    }

    static func table(_ summary: Summary) -> String {
        var lines = ["", "Summary (\(summary.devices) devices)"]
        for step in summary.steps {
            lines.append(
                "  \(step.ok ? "✔" : "✘") \(step.name.padding(toLength: 34, withPad: " ", startingAt: 0)) "
                    + "\(step.observed)  (\(String(format: "%.1f", step.seconds)) s)")
            if !step.ok { lines.append("      expected: \(step.expected)") }
        }
        lines.append(summary.ok ? "All outcomes as expected." : "Some outcomes were not as expected.")
        return lines.joined(separator: "\n")
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
