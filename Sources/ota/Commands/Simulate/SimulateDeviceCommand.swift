import ArgumentParser
import ESP32Simulator
import Foundation
import OTAAgent

extension SimulateCommand {
    /// `ota simulate device` — one simulated ESP32 whose state lives in a directory.
    struct Device: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one simulated ESP32 (flash, eFuses, bootloader, OTA agent) until stopped.",
            discussion: """
                The first run creates the device in --dir from --thing, --factory-image (an app image with a secure \
                boot v1 block, e.g. from `ota sign --secure-boot-v1`), --credentials (the directory `ota things \
                issue-certificate` wrote) and --signing-cert (the code-signing certificate: its key verifies OTA \
                files and, fused, secure boot). Later runs continue from the saved flash and eFuses: stopping and \
                starting is a power cycle. Firmware declares its behaviour in its project name: +selftest-fail, \
                +selftest-hang, +crash (see README).
                """)

        @Option(help: "Directory holding the device's flash, eFuses and identity.") var dir: String
        @Option(
            help:
                "The service's MQTT endpoint, HOST:PORT; several instances (without a load balancer): HOST:PORT,HOST:PORT…, tried in turn when one cannot be reached."
        ) var server = "localhost:8883"
        @Option(help: "Thing name (first run).") var thing: String?
        @Option(help: "Signed factory app image (first run).") var factoryImage: String?
        @Option(help: "Directory with <thing>.pem, <thing>.key and ca.pem (first run).") var credentials: String?
        @Option(help: "Code-signing certificate PEM (first run).") var signingCert: String?
        @Flag(help: "Burn the anti-rollback eFuse flag (first run).") var antiRollback = false
        @Flag(
            help: ArgumentHelp(
                "Keep the factory app when a confirmed update erases older images (first run).",
                discussion: "By default every older image is erased, the factory app too: no signed older firmware "
                    + "stays on the chip to be booted again. Keeping it leaves a recovery image, and that risk."))
        var keepFactoryApp = false
        @Option(help: DataProtocolOption.help) var dataProtocol: DataProtocolOption?
        @Flag(help: "Exit once a job ends (SUCCEEDED or FAILED) instead of running until interrupted.")
        var exitAfterJob = false
        @Option(help: "Stop after this many seconds.") var seconds: Int = 86_400
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let directory = DeviceDirectory(path: dir)
            if !directory.exists {
                guard let thing, let factoryImage, let credentials, let signingCert else {
                    throw CLIError(
                        "\(dir) holds no device yet: give --thing, --factory-image, --credentials and --signing-cert")
                }
                try SimulateCommand.create(
                    directory, thing: thing, factoryImage: factoryImage, credentials: credentials,
                    signingCert: signingCert, antiRollback: antiRollback, keepFactoryApp: keepFactoryApp,
                    dataProtocol: dataProtocol)
                log(
                    "Created device \(thing) in \(dir) (4 MiB flash, secure boot on"
                        + (antiRollback ? ", anti-rollback on" : "") + (keepFactoryApp ? ", factory app kept" : "")
                        + ")")
            } else if keepFactoryApp {
                // A first-run setting, fixed when the device was made: say so rather than ignore it silently.
                FileHandle.standardError.write(
                    Data("warning: \(dir) holds a device already; --keep-factory-app applies when one is made\n".utf8))
            }
            // With --json, standard output carries only the report; the device's log goes to standard error.
            let json = output.json
            let device = try SimulateCommand.device(
                directory, server: server, dataProtocol: dataProtocol,
                log: { line in
                    (json ? FileHandle.standardError : FileHandle.standardOutput).write(Data((line + "\n").utf8))
                })
            let exitAfterJob = exitAfterJob
            let running = Task {
                try await device.run(timeout: .seconds(seconds)) { status in
                    guard exitAfterJob, let event = status.lastEvent else { return false }
                    switch event {
                    case .succeeded, .failed: return true
                    default: return false
                    }
                }
            }
            let stopper = Task {
                await ServeCommand.waitForTermination()
                running.cancel()
            }
            defer { stopper.cancel() }
            do {
                try await running.value
            } catch let error as SimulatedDeviceError where seconds < 86_400 {
                log("\(error)")
            }
            try directory.save(device.chip)
            let report = DeviceReport(thing: device.credentials.thing, status: device.status)
            try output.emit(report) { "slots: " + report.slots.map(\.summary).joined(separator: ", ") }
        }

        private func log(_ line: String) {
            (output.json ? FileHandle.standardError : FileHandle.standardOutput).write(Data((line + "\n").utf8))
        }
    }
}
