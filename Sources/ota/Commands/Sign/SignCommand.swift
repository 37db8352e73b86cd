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
