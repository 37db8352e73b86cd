import CodeSigning
import Crypto
import ESP32Formats
import Foundation
import TestSupport
import Testing

@Suite struct SecureBootTests {
    static func image() throws -> [UInt8] {
        try AppImageBuilder.application(
            descriptor: AppDescriptor(version: "1.0.0", projectName: "sbv1"),
            payload: Array(repeating: 0x42, count: 4000),
            secureBootV1Padding: true)
    }

    @Test func espsecureAcceptsOurSecureBootV1Images() async throws {
        let directory = try TemporaryDirectory()
        let key = P256.Signing.PrivateKey()
        let signed = try SecureBootV1Signing.sign(image: try Self.image(), with: SoftwareSigningKey(key))
        try directory.write("signed.bin", signed)
        try directory.write("pub.bin", PublicKeyCoding.encode(key.publicKey, format: .raw))
        let result = try await ExternalTools.run(
            "espsecure",
            [
                "verify-signature", "--version", "1", "--keyfile", directory.path("pub.bin"),
                directory.path("signed.bin"),
            ])
        #expect(result.status == 0 && result.stdout.contains("Signature is valid"), "\(result.stdout)\(result.stderr)")
        #expect((signed.count + 12) % 0x10000 == 0, "secure-padded image plus block ends 12 bytes before 64 KiB")

        var tampered = signed
        tampered[0x400] ^= 1
        try directory.write("tampered.bin", tampered)
        let refused = try await ExternalTools.run(
            "espsecure",
            [
                "verify-signature", "--version", "1", "--keyfile", directory.path("pub.bin"),
                directory.path("tampered.bin"),
            ])
        #expect(refused.status != 0)
        #expect(throws: CodeSigningError.signatureMismatch) {
            try SecureBootV1Signing.verify(image: tampered, publicKey: key.publicKey)
        }
    }

    @Test func weAcceptEspsecureSignedImages() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.bin", try Self.image())
        try await ExternalTools.check("espsecure", ["generate-signing-key", "--version", "1", directory.path("k.pem")])
        try await ExternalTools.check(
            "espsecure",
            [
                "sign-data", "--version", "1", "--keyfile", directory.path("k.pem"), "--output",
                directory.path("s.bin"),
                directory.path("app.bin"),
            ])
        let key = try PrivateKeyCoding.decode(try directory.read("k.pem"))
        try SecureBootV1Signing.verify(image: try directory.read("s.bin"), publicKey: key.publicKey)
        #expect(throws: CodeSigningError.signatureMismatch) {
            try SecureBootV1Signing.verify(
                image: try directory.read("s.bin"), publicKey: P256.Signing.PrivateKey().publicKey)
        }
    }

    @Test func theOTASignatureOfTheImageIsItsSecureBootSignature() throws {
        // The ESP32 port appends the job document's signature: same digest, same key, r‖s instead of DER.
        let key = P256.Signing.PrivateKey()
        let bytes = try Self.image()
        let otaSignature = try CodeSigner.sign(bytes, with: SoftwareSigningKey(key))
        let signed = try SecureBootV1Signing.append(otaSignature, to: try AppImage(bytes: bytes))
        try SecureBootV1Signing.verify(image: signed, publicKey: key.publicKey)
    }

    @Test func unsignedAndBrokenImagesAreRefused() throws {
        let key = P256.Signing.PrivateKey().publicKey
        #expect(throws: CodeSigningError.secureBootBlockMissing) {
            try SecureBootV1Signing.verify(image: try Self.image(), publicKey: key)
        }
        guard case .invalidImage? = thrown({ try SecureBootV1Signing.verify(image: [0x00, 0x01], publicKey: key) })
        else {
            Issue.record("garbage accepted as an image"); return
        }
    }
}
