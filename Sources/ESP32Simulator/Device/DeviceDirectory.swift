import Foundation
import OTAAgent

// A simulated device's whole state in a directory, so that `ota simulate device --dir D` can be stopped and
// started again like a power cycle: flash.bin (the 4 MiB chip), efuses.json, device.json (thing name and the
// file names below, and the device's settings), the MQTT credentials (thing.pem, thing.key 0600, ca.pem) and the secure boot and
// code-signing verification key (raw X‖Y, as the bootloader carries it).

public struct DeviceDirectory {
    public let path: String

    public struct Manifest: Codable, Equatable {
        public var thing: String
        public var flashSize: Int
        public var verificationKey: [UInt8]?
        /// Keep the factory app when a confirmed update erases older images (absent in older directories: erase).
        public var keepFactoryApp: Bool?
        /// The data protocol preferred when a job offers both, "mqtt" or "http" (absent in older directories: mqtt).
        public var dataProtocol: String?

        public init(
            thing: String, flashSize: Int, verificationKey: [UInt8]?, keepFactoryApp: Bool = false,
            dataProtocol: OTADataProtocol = .mqtt
        ) {
            self.thing = thing
            self.flashSize = flashSize
            self.verificationKey = verificationKey
            self.keepFactoryApp = keepFactoryApp
            self.dataProtocol = dataProtocol.settingName
        }

        public var preferredDataProtocol: OTADataProtocol {
            dataProtocol.flatMap(OTADataProtocol.init(settingName:)) ?? .mqtt
        }
    }

    public init(path: String) {
        self.path = path
    }

    var flashPath: String { path + "/flash.bin" }
    var efusesPath: String { path + "/efuses.json" }
    var manifestPath: String { path + "/device.json" }
    public var certificatePath: String { path + "/thing.pem" }
    public var keyPath: String { path + "/thing.key" }
    public var caPath: String { path + "/ca.pem" }

    public var exists: Bool { FileManager.default.fileExists(atPath: manifestPath) }

    /// Writes a new device: the chip as manufactured and its identity.
    public func create(chip: SimulatedChip, manifest: Manifest, credentials: DeviceCredentials) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try save(chip)
        try save(manifest)
        try Data(credentials.certificatePEM.utf8).write(to: URL(fileURLWithPath: certificatePath), options: .atomic)
        try Data(credentials.caPEM.utf8).write(to: URL(fileURLWithPath: caPath), options: .atomic)
        // The key file is made 0600 before the key goes into it.
        guard FileManager.default.createFile(atPath: keyPath, contents: nil, attributes: [.posixPermissions: 0o600])
        else { throw DeviceDirectoryError.cannotWrite(keyPath) }
        try Data(credentials.privateKeyPEM.utf8).write(to: URL(fileURLWithPath: keyPath))
    }

    /// Saves flash and eFuses atomically (temporary file + rename), so a kill mid-save loses nothing older.
    public func save(_ chip: SimulatedChip) throws {
        try Data(chip.flash.bytes).write(to: URL(fileURLWithPath: flashPath), options: .atomic)
        try JSONEncoder().encode(chip.efuses).write(to: URL(fileURLWithPath: efusesPath), options: .atomic)
    }

    /// Replaces the manifest (a changed setting), atomically.
    public func save(_ manifest: Manifest) throws {
        try JSONEncoder().encode(manifest).write(to: URL(fileURLWithPath: manifestPath), options: .atomic)
    }

    public func load() throws -> (chip: SimulatedChip, manifest: Manifest, credentials: DeviceCredentials) {
        let manifest = try JSONDecoder().decode(
            Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: manifestPath)))
        let flash = Array(try Data(contentsOf: URL(fileURLWithPath: flashPath)))
        guard flash.count == manifest.flashSize, flash.count % SimulatedFlash.sectorSize == 0 else {
            throw DeviceDirectoryError.corrupt("flash.bin has \(flash.count) bytes, expected \(manifest.flashSize)")
        }
        let efuses = try JSONDecoder().decode(EFuses.self, from: Data(contentsOf: URL(fileURLWithPath: efusesPath)))
        let credentials = DeviceCredentials(
            thing: manifest.thing, certificatePEM: try String(contentsOfFile: certificatePath, encoding: .utf8),
            privateKeyPEM: try String(contentsOfFile: keyPath, encoding: .utf8),
            caPEM: try String(contentsOfFile: caPath, encoding: .utf8))
        let chip = SimulatedChip(
            flash: SimulatedFlash(contents: flash), efuses: efuses, verificationKey: manifest.verificationKey)
        return (chip, manifest, credentials)
    }
}

public enum DeviceDirectoryError: Error, CustomStringConvertible {
    case corrupt(String)
    case cannotWrite(String)
    public var description: String {
        switch self {
        case .corrupt(let why): return "the device directory is damaged: \(why)"
        case .cannotWrite(let path): return "cannot create \(path): is the directory writable?"
        }
    }
}

extension OTADataProtocol {
    /// The name in settings and on the command line: "mqtt" or "http".
    public var settingName: String {
        switch self {
        case .mqtt: return "mqtt"
        case .http: return "http"
        }
    }

    public init?(settingName: String) {
        switch settingName {
        case "mqtt": self = .mqtt
        case "http": self = .http
        default: return nil
        }
    }
}
