import ArgumentParser
import ESP32Simulator
import Foundation
import NIOConcurrencyHelpers
import OTAAgent
import OTADemo

extension SimulateCommand {
    /// `ota simulate fleet` — many simulated ESP32s, each with its state under DIR/<thing>/.
    struct Fleet: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run N simulated ESP32s against a SwiftOTA service, with optional fault injection.",
            discussion: """
                Things are <prefix>-001 … <prefix>-N. On the first run each device is created from --factory-image, \
                --signing-cert and the certificates in --credentials (<thing>.pem, <thing>.key, ca.pem, as \
                `ota things issue-certificate --out DIR` writes them); later runs continue from the saved state.
                """)

        @Option(
            help:
                "The service's MQTT endpoint, HOST:PORT; several instances (without a load balancer): HOST:PORT,HOST:PORT…, tried in turn when one cannot be reached."
        ) var server = "localhost:8883"
        @Option(help: "Number of devices.") var count = 10
        @Option(help: "Directory holding one sub-directory per device.") var dir: String
        @Option(help: "Thing name prefix.") var prefix = "sim"
        @Option(help: "Signed factory app image (first run).") var factoryImage: String?
        @Option(help: "Directory with the things' certificates and ca.pem (first run).") var credentials: String?
        @Option(help: "Code-signing certificate PEM (first run).") var signingCert: String?
        @Flag(help: "Burn the anti-rollback eFuse flag (first run).") var antiRollback = false
        @Flag(help: "Keep the factory app when a confirmed update erases older images (first run).")
        var keepFactoryApp = false
        @Option(help: DataProtocolOption.help) var dataProtocol: DataProtocolOption?
        @Option(help: "Probability that an incoming message is lost.") var dropRate = 0.0
        @Option(help: "Probability per power-on of a power cut at a random flash operation.") var powerCutRate = 0.0
        @Flag(help: "Drop connections now and then; devices reconnect.") var flakyNetwork = false
        @Option(help: "Seed of the fault generator.") var seed: UInt64 = 1
        @Flag(help: "Exit once every device has finished a job (SUCCEEDED or FAILED).") var exitAfterJob = false
        @Option(help: "Stop after this many seconds.") var seconds: Int = 86_400
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard (1...10_000).contains(count) else { throw ValidationError("--count must be 1…10000") }
            guard (0...1).contains(dropRate), (0...1).contains(powerCutRate) else {
                throw ValidationError("rates are probabilities between 0 and 1")
            }
        }

        func run() async throws {
            let fleet = SimulatedFleet()
            var devices: [SimulatedDevice] = []
            for index in 1...count {
                let thing = String(format: "%@-%03d", prefix, index)
                let directory = DeviceDirectory(path: dir + "/" + thing)
                if !directory.exists {
                    guard let factoryImage, let credentials, let signingCert else {
                        throw CLIError(
                            "\(directory.path) holds no device yet: give --factory-image, --credentials, --signing-cert"
                        )
                    }
                    try SimulateCommand.create(
                        directory, thing: thing, factoryImage: factoryImage, credentials: credentials,
                        signingCert: signingCert, antiRollback: antiRollback, keepFactoryApp: keepFactoryApp,
                        dataProtocol: dataProtocol)
                }
                let device = try SimulateCommand.device(
                    directory, server: server, dataProtocol: dataProtocol, log: { _ in })
                device.faults = DeviceFaults(
                    dropRate: dropRate, powerCutRate: powerCutRate, flakyNetwork: flakyNetwork,
                    seed: seed &+ UInt64(index))
                devices.append(device)
                fleet.launch(device, timeout: .seconds(seconds))
            }
            let board = ProgressBoard(quiet: output.json)
            let interrupted = NIOLockedValueBox(false)
            let stopper = Task {
                await ServeCommand.waitForTermination()
                interrupted.withLockedValue { $0 = true }
            }
            let deadline = ContinuousClock.now + .seconds(seconds)
            while ContinuousClock.now < deadline, !interrupted.withLockedValue({ $0 }) {
                let snapshot = fleet.snapshot
                board.draw(snapshot, title: "fleet of \(count)")
                if exitAfterJob, snapshot.count == count,
                    snapshot.allSatisfy({ entry in
                        if case .succeeded = entry.status.lastEvent { return true }
                        if case .failed = entry.status.lastEvent { return entry.status.phase != .rebooting }
                        return false
                    })
                {
                    break
                }
                if fleet.failures.count == count { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            stopper.cancel()
            await fleet.stopAll()
            for device in devices { try? DeviceDirectory(path: dir + "/" + device.credentials.thing).save(device.chip) }
            let summary = fleet.snapshot.map {
                DeviceReport(thing: $0.thing, status: $0.status, failure: fleet.failures[$0.thing])
            }
            try output.emit(summary) { summary.map(\.line).joined(separator: "\n") }
        }
    }
}
