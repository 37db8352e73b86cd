import ArgumentParser
import CodeSigning
import Crypto
import ESP32Formats
import Foundation
import X509

/// Where a CA directory keeps its files: `ca.pem` (certificate) and `ca.key` (private key, 0600).
struct CADirectory {
    let path: String
    var certificatePath: String { path + "/ca.pem" }
    var keyPath: String { path + "/ca.key" }

    func load(_ permissions: KeyPermissionOptions) throws -> CertificateAuthority {
        let certificate = try CertificateCoding.decode(try KeyFiles.readFile(certificatePath))
        return try CertificateAuthority(certificate: certificate, key: try permissions.readPrivateKey(keyPath))
    }
}

/// What every issuing command reports.
struct IssuedCertificate: Encodable {
    let certificate: String
    let key: String?
    let subject: String
    let serialNumber: String
    let notBefore: Date
    let notAfter: Date

    init(_ certificate: Certificate, path: String, keyPath: String?) {
        self.certificate = path
        key = keyPath
        subject = certificate.subject.description
        serialNumber = hexString(certificate.serialNumber.bytes)
        notBefore = certificate.notValidBefore
        notAfter = certificate.notValidAfter
    }

    var text: String {
        "Wrote \(certificate)" + (key.map { " and \($0) (mode 0600)" } ?? "")
            + "\n  subject \(subject)\n  serial \(serialNumber)\n  valid \(notBefore) to \(notAfter)"
    }
}

/// A validity period of `days` from now; certificates always carry explicit dates.
func validity(days: Int) throws -> Validity {
    guard days > 0, days <= 36_500 else { throw ValidationError("--days must be between 1 and 36500") }
    return Validity(days: days)
}

struct CACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract:
            "The device CA: issue device and server certificates, sign CSRs; register other CAs with the service.",
        subcommands: [
            CAInitCommand.self, CAIssueDeviceCommand.self, CAIssueServerCommand.self, CASignCSRCommand.self,
            CARegisterCommand.self, CAListCommand.self, CADeactivateCommand.self, CAActivateCommand.self,
        ])
}

struct CAInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a CA (key and self-signed certificate) in a directory.")

    @Option(help: "Directory for ca.pem and ca.key (created if missing).")
    var dir: String

    @Option(help: "The CA's common name.")
    var commonName = "SwiftOTA Device CA"

    @Option(help: "Days the CA certificate is valid.")
    var days = 3650

    @OptionGroup var output: OutputOptions

    func run() throws {
        let directory = CADirectory(path: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        guard !FileManager.default.fileExists(atPath: directory.keyPath) else {
            throw CLIError("\(directory.keyPath) already exists; refusing to replace a CA")
        }
        let key = P256.Signing.PrivateKey()
        let ca = try CertificateAuthority.create(
            commonName: commonName, key: key, validity: try validity(days: days))
        try KeyFiles.writePrivateKey(key, to: directory.keyPath)
        try KeyFiles.writeFile(
            Array(try CertificateCoding.encode(ca.certificate).utf8), to: directory.certificatePath, mode: 0o644)
        let report = IssuedCertificate(ca.certificate, path: directory.certificatePath, keyPath: directory.keyPath)
        try output.emit(report) { report.text }
    }
}

/// Issues a certificate for a new key (written next to it) or for an existing public key.
struct IssueOptions: ParsableArguments {
    @Option(help: "The CA directory (from `ota ca init`).")
    var caDir: String

    @Option(help: "Use this existing key (private or public) instead of generating one.")
    var key: String?

    @Option(name: [.short, .customLong("output")], help: "Directory to write the certificate (and new key) into.")
    var outputDirectory = "."

    @Option(help: "Days the certificate is valid, from now.")
    var days = 825

    @OptionGroup var permissions: KeyPermissionOptions
    @OptionGroup var output: OutputOptions

    func issue(_ profile: CertificateProfile, baseName: String) throws {
        let ca = try CADirectory(path: caDir).load(permissions)
        var newKey: P256.Signing.PrivateKey?
        let publicKey: P256.Signing.PublicKey
        if let key {
            let bytes = try KeyFiles.readFile(key)
            publicKey =
                String(decoding: bytes.prefix(200), as: UTF8.self).contains("PRIVATE KEY")
                ? try permissions.readPrivateKey(key).publicKey : try PublicKeyCoding.decode(bytes)
        } else {
            newKey = P256.Signing.PrivateKey()
            publicKey = newKey!.publicKey
        }
        let certificate = try ca.issue(profile, publicKey: publicKey, validity: try validity(days: days))
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        var keyPath: String?
        if let newKey {
            keyPath = outputDirectory + "/\(baseName).key"
            try KeyFiles.writePrivateKey(newKey, to: keyPath!)
        }
        try write(certificate, to: outputDirectory + "/\(baseName).pem", keyPath: keyPath)
    }

    func write(_ certificate: Certificate, to path: String, keyPath: String?) throws {
        try KeyFiles.writeFile(Array(try CertificateCoding.encode(certificate).utf8), to: path, mode: 0o644)
        let report = IssuedCertificate(certificate, path: path, keyPath: keyPath)
        try output.emit(report) { report.text }
    }
}

struct CAIssueDeviceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue-device",
        abstract: "Issue a device (thing) certificate: CN = thing name, extendedKeyUsage clientAuth.")

    @Argument(help: "The thing name (1 to 128 of a-z A-Z 0-9 : _ -).")
    var thing: String

    @OptionGroup var options: IssueOptions

    func run() throws {
        try options.issue(.device(thingName: thing), baseName: thing)
    }
}

struct CAIssueServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue-server",
        abstract: "Issue a server certificate: extendedKeyUsage serverAuth, SANs for every --host.")

    @Option(name: .customLong("host"), help: "A DNS name or IP address the server answers on (repeat for more).")
    var hosts: [String]

    @OptionGroup var options: IssueOptions

    func validate() throws {
        guard !hosts.isEmpty else { throw ValidationError("give at least one --host") }
    }

    func run() throws {
        try options.issue(.server(hosts: hosts), baseName: "server")
    }
}

struct CASignCSRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-csr",
        abstract: "Sign a certificate signing request from a device that keeps its own key (or for a server).")

    @Argument(help: "The CSR, PEM or DER (e.g. from `openssl req -new`).")
    var csr: String

    @Option(help: "The CA directory (from `ota ca init`).")
    var caDir: String

    @Option(help: "Issue a device certificate for this thing name (the CSR's CN must match when it has one).")
    var thing: String?

    @Option(name: .customLong("host"), help: "Issue a server certificate for these hosts instead.")
    var hosts: [String] = []

    @Option(name: [.short, .customLong("output")], help: "Where to write the certificate.")
    var outputPath: String

    @Option(help: "Days the certificate is valid, from now.")
    var days = 825

    @OptionGroup var permissions: KeyPermissionOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (thing != nil) != !hosts.isEmpty else { throw ValidationError("give either --thing or --host") }
    }

    func run() throws {
        let ca = try CADirectory(path: caDir).load(permissions)
        let request = try CertificateCoding.decodeCSR(try KeyFiles.readFile(csr))
        let profile: CertificateProfile = thing.map { .device(thingName: $0) } ?? .server(hosts: hosts)
        let certificate = try ca.sign(request, as: profile, validity: try validity(days: days))
        try KeyFiles.writeFile(Array(try CertificateCoding.encode(certificate).utf8), to: outputPath, mode: 0o644)
        let report = IssuedCertificate(certificate, path: outputPath, keyPath: nil)
        try output.emit(report) { report.text }
    }
}
