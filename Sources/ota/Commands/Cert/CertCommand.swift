import ArgumentParser
import CodeSigning

struct CertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert", abstract: "Code-signing certificates.", subcommands: [CertSelfSignedCommand.self])
}

struct CertSelfSignedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "self-signed",
        abstract: "A self-signed code-signing certificate (keyUsage digitalSignature, extendedKeyUsage codeSigning).",
        discussion: "For demos and tests; in production use a code-signing certificate issued by your CA.")

    @Option(help: "The signing key.")
    var key: String

    @Option(help: "The certificate's common name.")
    var commonName = "SwiftOTA code signing"

    @Option(name: [.short, .customLong("output")], help: "Where to write the certificate.")
    var outputPath: String

    @Option(help: "Days the certificate is valid, from now.")
    var days = 365

    @OptionGroup var permissions: KeyPermissionOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let signingKey = try permissions.readPrivateKey(key)
        let certificate = try CertificateAuthority.selfSignedCodeSigningCertificate(
            key: signingKey, commonName: commonName, validity: try validity(days: days))
        try KeyFiles.writeFile(Array(try CertificateCoding.encode(certificate).utf8), to: outputPath, mode: 0o644)
        let report = IssuedCertificate(certificate, path: outputPath, keyPath: nil)
        try output.emit(report) { report.text }
    }
}
