import ArgumentParser
import CodeSigning

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
