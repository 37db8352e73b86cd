import CodeSigning
import Crypto
import Foundation
import TestSupport
import Testing
import X509

@Suite struct SignatureTests {
    static func codeSigningPair(validity: Validity = Validity(days: 30)) throws -> (
        P256.Signing.PrivateKey, Certificate
    ) {
        let key = P256.Signing.PrivateKey()
        let certificate = try CertificateAuthority.selfSignedCodeSigningCertificate(
            key: key, commonName: "test signer", validity: validity)
        return (key, certificate)
    }

    @Test func opensslVerifiesOurSignatures() async throws {
        let directory = try TemporaryDirectory()
        let (key, certificate) = try Self.codeSigningPair()
        let file = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let signature = try CodeSigner.sign(file, with: SoftwareSigningKey(key), certificate: certificate)
        try directory.write("fw.bin", file)
        try directory.write("sig.der", signature.der)
        try directory.write("pub.pem", PublicKeyCoding.encode(key.publicKey, format: .pem))
        let result = try await ExternalTools.run(
            "openssl",
            [
                "dgst", "-sha256", "-verify", directory.path("pub.pem"), "-signature", directory.path("sig.der"),
                directory.path("fw.bin"),
            ])
        #expect(result.status == 0 && result.stdout.contains("Verified OK"), "\(result.stdout)\(result.stderr)")
        // The job document's form is base64 of that DER.
        #expect(try CodeSignature(encoded: Array(signature.base64.utf8)) == signature)
    }

    @Test func weVerifyOpenSSLSignatures() async throws {
        let directory = try TemporaryDirectory()
        try await ExternalTools.check(
            "openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-out", directory.path("k.pem")])
        try directory.write("fw.bin", (0..<5000).map { UInt8(truncatingIfNeeded: $0) })
        try await ExternalTools.check(
            "openssl",
            [
                "dgst", "-sha256", "-sign", directory.path("k.pem"), "-out", directory.path("sig.der"),
                directory.path("fw.bin"),
            ])
        let key = try PrivateKeyCoding.decode(try directory.read("k.pem"))
        let signature = try CodeSignature(encoded: try directory.read("sig.der"))
        try CodeSigner.verify(try directory.read("fw.bin"), signature: signature, publicKey: key.publicKey)
    }

    @Test func everySingleBitFlipFailsVerification() throws {
        let key = P256.Signing.PrivateKey()
        let file = (0..<256).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let signature = try CodeSigner.sign(file, with: SoftwareSigningKey(key))
        try CodeSigner.verify(file, signature: signature, publicKey: key.publicKey)
        for bit in 0..<file.count * 8 {
            var flipped = file
            flipped[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
            #expect(throws: CodeSigningError.signatureMismatch, "bit \(bit)") {
                try CodeSigner.verify(flipped, signature: signature, publicKey: key.publicKey)
            }
        }
    }

    @Test func certificateProblemsAreDistinct() throws {
        let (key, certificate) = try Self.codeSigningPair()
        let file: [UInt8] = Array("firmware".utf8)
        let other = P256.Signing.PrivateKey()
        #expect(throws: CodeSigningError.certificateKeyMismatch) {
            try CodeSigner.sign(file, with: SoftwareSigningKey(other), certificate: certificate)
        }
        let past = Validity(
            notBefore: Date(timeIntervalSinceNow: -86_400 * 10), notAfter: Date(timeIntervalSinceNow: -86_400))
        let (expiredKey, expired) = try Self.codeSigningPair(validity: past)
        guard
            case .certificateExpired? = thrown({
                try CodeSigner.sign(file, with: SoftwareSigningKey(expiredKey), certificate: expired)
            })
        else { Issue.record("expired certificate accepted"); return }
        let future = Validity(
            notBefore: Date(timeIntervalSinceNow: 86_400), notAfter: Date(timeIntervalSinceNow: 86_400 * 10))
        let (futureKey, notYet) = try Self.codeSigningPair(validity: future)
        guard
            case .certificateNotYetValid? = thrown({
                try CodeSigner.sign(file, with: SoftwareSigningKey(futureKey), certificate: notYet)
            })
        else { Issue.record("not-yet-valid certificate accepted"); return }
        // Verification applies the same date checks, and a signature by another key is a mismatch.
        let signature = try CodeSigner.sign(file, with: SoftwareSigningKey(key), certificate: certificate)
        guard
            case .certificateExpired? = thrown({
                try CodeSigner.verify(file, signature: signature, certificate: expired)
            })
        else { Issue.record("verification against an expired certificate passed"); return }
        let foreign = try CodeSigner.sign(file, with: SoftwareSigningKey(other))
        #expect(throws: CodeSigningError.signatureMismatch) {
            try CodeSigner.verify(file, signature: foreign, certificate: certificate)
        }
    }

    @Test func malformedSignaturesAreTypedErrors() {
        #expect(throws: CodeSigningError.malformedSignature("neither DER nor base64 of DER")) {
            try CodeSignature(encoded: Array("not base64 ***".utf8))
        }
        #expect(throws: CodeSigningError.malformedSignature("not an ASN.1 DER SEQUENCE of two integers")) {
            try CodeSignature(encoded: Array("AAAA".utf8))
        }
    }

    @Test func signingProfilesSignForTheUserOrCheckTheirSignature() throws {
        let directory = try TemporaryDirectory()
        let (key, certificate) = try Self.codeSigningPair()
        let keyPath = directory.path("signer.key")
        try KeyFiles.writePrivateKey(key, to: keyPath)
        let pem = try CertificateCoding.encode(certificate)
        let profile = try SigningProfile(name: "esp32_release", certificatePEM: pem, key: .file(path: keyPath))
        let file = Array("image bytes".utf8)
        let signature = try profile.sign(file)
        try profile.verify(file, signature: signature)

        let customOnly = try SigningProfile(name: "custom_only", certificatePEM: pem, key: nil)
        guard case .invalidArgument? = thrown({ try customOnly.sign(file) }) else {
            Issue.record("a profile without a key signed"); return
        }
        try customOnly.verify(file, signature: try CodeSigner.sign(file, with: SoftwareSigningKey(key)))
        #expect(throws: CodeSigningError.signatureMismatch) {
            try customOnly.verify(
                file, signature: try CodeSigner.sign(file, with: SoftwareSigningKey(P256.Signing.PrivateKey())))
        }
        #expect(throws: CodeSigningError.self) { try SigningProfile(name: "bad name!", certificatePEM: pem, key: nil) }
        #expect(throws: CodeSigningError.self) {
            try SigningProfile(name: "ok", platform: "stm32", certificatePEM: pem, key: nil)
        }
        #expect(throws: CodeSigningError.self) { try SigningProfile(name: "ok", certificatePEM: "garbage", key: nil) }
    }
}

@Suite struct FileDigestTests {
    @Test(arguments: [0, 1, 256 * 1024, 256 * 1024 + 1, 700_001])
    func streamedDigestEqualsTheInMemoryDigest(size: Int) throws {
        let directory = try TemporaryDirectory()
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let path = try directory.write("f.bin", bytes)
        #expect(try CodeSigner.digest(ofFileAt: path) == CodeSigner.digest(of: bytes))
        let key = P256.Signing.PrivateKey()
        let signature = try CodeSigner.sign(fileAt: path, with: SoftwareSigningKey(key))
        try CodeSigner.verify(bytes, signature: signature, publicKey: key.publicKey)
        try CodeSigner.verify(fileAt: path, signature: signature, publicKey: key.publicKey)
    }

    @Test func missingFileIsATypedError() {
        guard case .unreadableFile? = thrown({ try CodeSigner.digest(ofFileAt: "/nonexistent/file") }) else {
            Issue.record("missing file not reported"); return
        }
    }
}
