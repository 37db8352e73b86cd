import ArgumentParser
import CodeSigning
import Crypto
import ESP32Formats
import Foundation

struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a file the way the OTA job document carries it: ECDSA P-256 over SHA-256, DER, base64.",
        discussion: """
            With --cert, the certificate must be the key's and valid now. With --secure-boot-v1 OUT, also writes \
            the image with the ESP32 secure boot v1 block appended, as the device's OTA port does.
            """)

    @Argument(help: "The file to sign (firmware image or any partition content).")
    var file: String

    @Option(help: "The private key (PEM or DER, P-256).")
    var key: String

    @Option(help: "The code-signing certificate that devices verify with.")
    var cert: String?

    @Option(name: [.short, .customLong("output")], help: "Write the base64 signature here instead of printing it.")
    var outputPath: String?

    @Option(name: .customLong("secure-boot-v1"), help: "Also write the image with a secure boot v1 block here.")
    var secureBootOutput: String?

    @OptionGroup var permissions: KeyPermissionOptions
    @OptionGroup var output: OutputOptions

    struct Result: Encodable {
        let file: String
        let sha256: String
        let signature: String
        let certificateSubject: String?
        let secureBootV1Image: String?
    }

    func run() throws {
        let bytes = try KeyFiles.readFile(file)
        let signingKey = SoftwareSigningKey(try permissions.readPrivateKey(key))
        let certificate = try cert.map { try CertificateCoding.decode(try KeyFiles.readFile($0)) }
        let signature =
            try certificate.map { try CodeSigner.sign(bytes, with: signingKey, certificate: $0) }
            ?? CodeSigner.sign(bytes, with: signingKey)
        if let outputPath {
            try KeyFiles.writeFile(Array((signature.base64 + "\n").utf8), to: outputPath, mode: 0o644)
        }
        if let secureBootOutput {
            // The device appends the OTA signature of the delivered file; that equals the secure boot signature
            // only when the file is exactly the image through its hash, so sign the image's own bytes here.
            let signed = try SecureBootV1Signing.sign(image: bytes, with: signingKey)
            try KeyFiles.writeFile(signed, to: secureBootOutput, mode: 0o644)
        }
        let result = Result(
            file: file, sha256: hexString(CodeSigner.digest(of: bytes)), signature: signature.base64,
            certificateSubject: certificate?.subject.description, secureBootV1Image: secureBootOutput)
        try output.emit(result) {
            var lines = outputPath == nil ? [signature.base64] : ["Wrote signature to \(outputPath!)"]
            if let secureBootOutput { lines.append("Wrote secure boot v1 signed image to \(secureBootOutput)") }
            return lines.joined(separator: "\n")
        }
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a file's OTA signature against a certificate, or an image's secure boot v1 block.",
        discussion: """
            ota verify FILE --signature SIG --cert CERT      (SIG: base64 or DER; CERT must be valid now)
            ota verify --secure-boot-v1 IMAGE --public-key P (P: PEM, DER or raw 64-byte X‖Y)
            Exits 1 when the signature does not verify.
            """)

    @Argument(help: "The signed file, or with --secure-boot-v1 the image carrying the block.")
    var file: String

    @Option(help: "The signature: base64 text or DER.")
    var signature: String?

    @Option(help: "The code-signing certificate.")
    var cert: String?

    @Flag(name: .customLong("secure-boot-v1"), help: "Check the image's secure boot v1 block.")
    var secureBootV1 = false

    @Option(help: "With --secure-boot-v1: the bootloader's public key.")
    var publicKey: String?

    @OptionGroup var output: OutputOptions

    struct Result: Encodable {
        let file: String
        let valid: Bool
        let error: String?
    }

    func validate() throws {
        if secureBootV1 {
            guard publicKey != nil else { throw ValidationError("--secure-boot-v1 needs --public-key") }
        } else {
            guard signature != nil, cert != nil else { throw ValidationError("give --signature and --cert") }
        }
    }

    func run() throws {
        let bytes = try KeyFiles.readFile(file)
        var failure: CodeSigningError?
        do throws(CodeSigningError) {
            if secureBootV1 {
                try SecureBootV1Signing.verify(image: bytes, publicKey: try KeyFiles.readPublicKey(at: publicKey!))
            } else {
                let decoded = try CodeSignature(encoded: try KeyFiles.readFile(signature!))
                let certificate = try CertificateCoding.decode(try KeyFiles.readFile(cert!))
                try CodeSigner.verify(bytes, signature: decoded, certificate: certificate)
            }
        } catch {
            failure = error
        }
        let result = Result(file: file, valid: failure == nil, error: failure?.description)
        try output.emit(result) {
            failure.map { "INVALID: \($0)" } ?? "Verified: \(file) "
                + (secureBootV1 ? "carries a valid secure boot v1 signature" : "matches the signature and certificate")
        }
        if failure != nil { throw ExitCode.failure }
    }
}
