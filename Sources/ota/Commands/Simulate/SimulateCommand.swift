import ArgumentParser
import CodeSigning
import ESP32Simulator
import Foundation
import MQTT
import OTAAgent

/// `ota simulate` — simulated ESP32s against a service: one (`device`) or many (`fleet`).
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate", abstract: "Run simulated ESP32 devices against a SwiftOTA service.",
        subcommands: [Device.self, Fleet.self])
}

extension SimulateCommand {
    /// A new device directory: the chip manufactured with `factoryImage` (secure boot key = the code-signing
    /// certificate's key, fused), and the thing's credentials from `credentials` (as `ota things
    /// issue-certificate --out` writes them).
    static func create(
        _ directory: DeviceDirectory, thing: String, factoryImage: String, credentials: String, signingCert: String,
        antiRollback: Bool, keepFactoryApp: Bool, dataProtocol: DataProtocolOption?
    ) throws {
        let certificate = try CertificateCoding.decode(try Files.read(signingCert))
        let rawKey = PublicKeyCoding.encode(try certificate.p256PublicKey(), format: .raw)
        let chip = try SimulatedChip.manufacture(
            factoryImage: try Files.read(factoryImage), secureBootKey: rawKey, antiRollback: antiRollback)
        let identity = DeviceCredentials(
            thing: thing,
            certificatePEM: String(decoding: try Files.read("\(credentials)/\(thing).pem"), as: UTF8.self),
            privateKeyPEM: String(decoding: try Files.read("\(credentials)/\(thing).key"), as: UTF8.self),
            caPEM: String(decoding: try Files.read("\(credentials)/ca.pem"), as: UTF8.self))
        try directory.create(
            chip: chip,
            manifest: DeviceDirectory.Manifest(
                thing: thing, flashSize: chip.flash.size, verificationKey: rawKey, keepFactoryApp: keepFactoryApp,
                dataProtocol: dataProtocol?.value ?? .mqtt),
            credentials: identity)
    }

    /// `--server HOST:PORT[,HOST:PORT…]`: the service, or several instances tried in turn.
    static func serverEndpoints(_ server: String) throws -> [MQTTEndpoint] {
        let endpoints = server.split(separator: ",", omittingEmptySubsequences: false).map { MQTTEndpoint(parsing: $0) }
        guard !endpoints.isEmpty, endpoints.allSatisfy({ $0 != nil }) else {
            throw CLIError("--server must be HOST:PORT, or several separated by commas (got \"\(server)\")")
        }
        return endpoints.compactMap { $0 }
    }

    /// The device stored in `directory`, pointed at `server` (HOST:PORT[,HOST:PORT…]), saving itself after every boot. A
    /// `dataProtocol` given for an existing device replaces its stored preference.
    static func device(
        _ directory: DeviceDirectory, server: String, dataProtocol: DataProtocolOption?,
        log: @escaping @Sendable (String) -> Void
    ) throws -> SimulatedDevice {
        let (chip, stored, identity) = try directory.load()
        var manifest = stored
        if let chosen = dataProtocol?.value, chosen != manifest.preferredDataProtocol {
            manifest.dataProtocol = chosen.settingName
            try directory.save(manifest)
        }
        guard let rawKey = manifest.verificationKey else { throw CLIError("\(directory.path) has no verification key") }
        let endpoints = try serverEndpoints(server)
        let device = SimulatedDevice(
            chip: chip, credentials: identity, host: endpoints[0].host, port: endpoints[0].port,
            codeSigningKey: try PublicKeyCoding.decode(rawKey), log: log)
        device.alternateEndpoints = Array(endpoints.dropFirst())
        device.keepFactoryApp = manifest.keepFactoryApp ?? false
        device.dataProtocol = manifest.preferredDataProtocol
        device.checkpoint = { chip in try? directory.save(chip) }
        return device
    }
}

/// `--data-protocol mqtt|http`: what a simulated device downloads over when a job offers both.
enum DataProtocolOption: String, ExpressibleByArgument, CaseIterable {
    case mqtt, http

    var value: OTADataProtocol { self == .mqtt ? .mqtt : .http }

    static let help = ArgumentHelp(
        "Data protocol preferred when a job offers both: mqtt or http (stored with the device; default mqtt).",
        discussion: "A job that offers only one protocol is downloaded over that one.")
}
