import ArgumentParser
import CodeSigning
import Crypto
import ESP32Formats
import Foundation

/// `--insecure-key-permissions`, for every command that reads a private key.
struct KeyPermissionOptions: ParsableArguments {
    @Flag(help: "Use a private key file even if group or others can read it.")
    var insecureKeyPermissions = false

    func readPrivateKey(_ path: String) throws -> P256.Signing.PrivateKey {
        try KeyFiles.readPrivateKey(at: path, allowInsecurePermissions: insecureKeyPermissions)
    }
}

extension PrivateKeyFormat: ExpressibleByArgument {}
extension PublicKeyFormat: ExpressibleByArgument {}

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Make ECDSA P-256 keys and convert public keys.",
        subcommands: [KeysGenerateCommand.self, KeysPublicCommand.self])
}

/// A public key in every form people need: PEM for openssl, raw X‖Y for the ESP32 bootloader, and a fingerprint.
struct PublicKeyReport: Encodable {
    let publicKeyPEM: String
    let publicKeyRaw: String
    let sha256Fingerprint: String

    init(_ key: P256.Signing.PublicKey) {
        publicKeyPEM = key.pemRepresentation
        publicKeyRaw = hexString(key.rawRepresentation)
        sha256Fingerprint = hexString(SHA256.hash(data: key.derRepresentation))
    }
}

struct KeysGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Generate an ECDSA P-256 private key (written with mode 0600).")

    @Option(name: [.short, .customLong("output")], help: "Where to write the private key.")
    var outputPath: String

    @Option(help: "Private key encoding: pkcs8 (PEM), sec1 (PEM 'EC PRIVATE KEY', as espsecure writes) or der.")
    var format: PrivateKeyFormat = .pkcs8PEM

    @Option(help: "Also write the public key as PEM here.")
    var publicKeyOutput: String?

    @Option(help: "Also write the raw 64-byte X‖Y public key here (what the ESP32 bootloader embeds).")
    var rawPublicKeyOutput: String?

    @OptionGroup var output: OutputOptions

    struct Result: Encodable {
        let privateKey: String
        let publicKey: PublicKeyReport
    }

    func run() throws {
        guard !FileManager.default.fileExists(atPath: outputPath) else {
            throw CLIError("\(outputPath) already exists; refusing to overwrite a key")
        }
        let key = P256.Signing.PrivateKey()
        try KeyFiles.writePrivateKey(key, to: outputPath, format: format)
        if let publicKeyOutput { try KeyFiles.writePublicKey(key.publicKey, to: publicKeyOutput, format: .pem) }
        if let rawPublicKeyOutput { try KeyFiles.writePublicKey(key.publicKey, to: rawPublicKeyOutput, format: .raw) }
        let result = Result(privateKey: outputPath, publicKey: PublicKeyReport(key.publicKey))
        try output.emit(result) {
            "Wrote ECDSA P-256 private key \(outputPath) (mode 0600)\nPublic key SHA-256: \(result.publicKey.sha256Fingerprint)"
        }
    }
}

struct KeysPublicCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "public",
        abstract: "Write the public key of a private key, public key or certificate as PEM, DER or raw X‖Y.")

    @Argument(help: "A private key, public key (PEM, DER or raw 64 bytes) or certificate.")
    var input: String

    @Option(name: [.short, .customLong("output")], help: "Where to write the public key (default: print it).")
    var outputPath: String?

    @Option(help: "pem, der, or raw (64 bytes X‖Y, as `espsecure extract-public-key --version 1`).")
    var format: PublicKeyFormat = .pem

    @OptionGroup var permissions: KeyPermissionOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let bytes = try KeyFiles.readFile(input)
        let isPrivate = String(decoding: bytes.prefix(200), as: UTF8.self).contains("PRIVATE KEY")
        let key = isPrivate ? try permissions.readPrivateKey(input).publicKey : try PublicKeyCoding.decode(bytes)
        if let outputPath {
            try KeyFiles.writePublicKey(key, to: outputPath, format: format)
        }
        let report = PublicKeyReport(key)
        try output.emit(report) {
            outputPath.map { "Wrote \($0) (\(format.rawValue))" }
                ?? (format == .raw ? report.publicKeyRaw : report.publicKeyPEM)
        }
    }
}
