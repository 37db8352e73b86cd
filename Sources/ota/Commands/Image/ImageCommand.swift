import ArgumentParser
import CodeSigning
import Crypto
import ESP32Formats
import Foundation
import OTAWire

struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Inspect and build ESP-IDF app images.",
        subcommands: [ImageInfoCommand.self, ImageBuildCommand.self])
}

struct ImageInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show an app image's header, segments and app descriptor, and check its checksum and hash.",
        discussion: """
            Exits with status 1 when the image is malformed, its checksum or SHA-256 does not match, or (with \
            --public-key) its secure boot v1 signature is missing or does not verify.
            """)

    @Argument(help: "The app image (.bin).")
    var file: String

    @Option(help: "Check the secure boot v1 block with this public key (PEM, DER or raw X‖Y); a missing block fails.")
    var publicKey: String?

    @OptionGroup var output: OutputOptions

    func run() throws {
        let key = try publicKey.map { try KeyFiles.readPublicKey(at: $0) }
        let report = ImageReport(file: file, bytes: try Files.read(file), publicKey: key)
        try output.emit(report) { report.text }
        if !report.valid { throw ExitCode.failure }
    }
}

struct ImageBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a valid ESP32 app image around an arbitrary payload (simulated firmware).",
        discussion: """
            Segment 0 (DROM, 0x3f400020) holds the app descriptor followed by the payload; segment 1 is a 4-byte \
            IRAM entry stub. The descriptor's ELF SHA-256 field carries the payload's SHA-256.
            """)

    @Option(help: "Project name recorded in the app descriptor (at most 31 bytes).")
    var project: String

    @Option(help: "Firmware version X.Y.Z (X, Y at most 255, Z at most 65535), as the OTA agent compares it.")
    var version: String

    @Option(help: "Anti-rollback secure_version compared against the eFuse.")
    var secureVersion: UInt32 = 0

    @Option(help: "File whose bytes become the firmware payload.")
    var payload: String

    @Option(name: [.short, .customLong("output")], help: "Where to write the image.")
    var outputPath: String

    @Option(help: "ESP-IDF version string recorded in the descriptor.")
    var idfVersion = "v5.5"

    @Flag(help: "Pad for secure boot v1, like `esptool elf2image --secure-pad`.")
    var secureBootV1Padding = false

    @OptionGroup var output: OutputOptions

    struct Result: Encodable {
        let path: String
        let size: Int
        let sha256: String
        let project: String
        let version: String
        let secureVersion: UInt32
    }

    func validate() throws {
        guard AppVersion32(version) != nil else {
            throw ValidationError(
                "--version must be X.Y.Z with X and Y at most 255 and Z at most 65535, got '\(version)'")
        }
    }

    func run() throws {
        let payloadBytes = try Files.read(payload)
        let (date, time) = Self.buildTimestamp()
        let descriptor = AppDescriptor(
            secureVersion: secureVersion, version: version, projectName: project, time: time, date: date,
            idfVersion: idfVersion, appELFSHA256: Array(SHA256.hash(data: payloadBytes)))
        let image = try AppImageBuilder.application(
            descriptor: descriptor, payload: payloadBytes, secureBootV1Padding: secureBootV1Padding)
        try Files.write(image, to: outputPath)
        let result = Result(
            path: outputPath, size: image.count, sha256: hexString(SHA256.hash(data: image)), project: project,
            version: version, secureVersion: secureVersion)
        try output.emit(result) {
            "Wrote \(outputPath): \(project) \(version) (secure_version \(secureVersion)), \(image.count) bytes, "
                + "sha256 \(result.sha256)"
        }
    }

    /// `__DATE__`/`__TIME__` style, from SOURCE_DATE_EPOCH when set so that builds are reproducible.
    static func buildTimestamp() -> (date: String, time: String) {
        let epoch = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap(TimeInterval.init)
        let now = epoch.map(Date.init(timeIntervalSince1970:)) ?? Date()
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MMM d yyyy"
        var date = formatter.string(from: now)
        // C's __DATE__ pads single-digit days with a space: "Jan  1 2026".
        if let space = date.firstIndex(of: " "),
            date[date.index(after: space)...].prefix(while: { $0 != " " }).count == 1
        {
            date.insert(" ", at: space)
        }
        formatter.dateFormat = "HH:mm:ss"
        return (date, formatter.string(from: now))
    }
}
