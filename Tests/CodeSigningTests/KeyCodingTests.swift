import CodeSigning
import Crypto
import Foundation
import TestSupport
import Testing

@Suite struct KeyCodingTests {
    @Test(arguments: PrivateKeyFormat.allCases)
    func privateKeysRoundTripAndAreWrittenOwnerOnly(format: PrivateKeyFormat) async throws {
        let directory = try TemporaryDirectory()
        let key = P256.Signing.PrivateKey()
        let path = directory.path("key")
        try KeyFiles.writePrivateKey(key, to: path, format: format)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        #expect(try KeyFiles.readPrivateKey(at: path).rawRepresentation == key.rawRepresentation)
        // openssl reads what we wrote and derives the same public key.
        let opensslPublic = try await ExternalTools.check(
            "openssl",
            [
                "pkey", "-in", path, "-inform", format == .der ? "DER" : "PEM", "-pubout", "-outform", "DER",
                "-out", directory.path("pub.der"),
            ])
        #expect(opensslPublic.status == 0)
        #expect(try directory.read("pub.der") == Array(key.publicKey.derRepresentation))
    }

    @Test func keysThatGroupOrOthersCanReadAreRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("key.pem")
        try KeyFiles.writePrivateKey(P256.Signing.PrivateKey(), to: path)
        chmod(path, 0o640)
        #expect(throws: CodeSigningError.insecureKeyPermissions(path: path, mode: "640")) {
            try KeyFiles.readPrivateKey(at: path)
        }
        #expect(throws: Never.self) { try KeyFiles.readPrivateKey(at: path, allowInsecurePermissions: true) }
    }

    /// Keys as openssl and espsecure write them: SEC1 with an EC PARAMETERS block, PKCS#8, DER.
    @Test func keysFromOpenSSLAndEspsecureAreRead() async throws {
        let directory = try TemporaryDirectory()
        try await ExternalTools.check(
            "openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-out", directory.path("sec1.pem")])
        try await ExternalTools.check(
            "openssl",
            ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", directory.path("p8.pem")])
        try await ExternalTools.check(
            "openssl", ["pkey", "-in", directory.path("p8.pem"), "-outform", "DER", "-out", directory.path("p8.der")])
        try await ExternalTools.check(
            "espsecure", ["generate-signing-key", "--version", "1", directory.path("esp.pem")])
        for name in ["sec1.pem", "p8.pem", "p8.der", "esp.pem"] {
            let key = try PrivateKeyCoding.decode(try directory.read(name))
            try await ExternalTools.check(
                "openssl",
                [
                    "pkey", "-in", directory.path(name), "-inform", name.hasSuffix("der") ? "DER" : "PEM",
                    "-pubout", "-outform", "DER", "-out", directory.path(name + ".pub"),
                ])
            #expect(try directory.read(name + ".pub") == Array(key.publicKey.derRepresentation), "\(name)")
            #expect(
                try PublicKeyCoding.decode(try directory.read(name + ".pub")).rawRepresentation
                    == key.publicKey.rawRepresentation)
        }
        // espsecure's raw public key is our X‖Y form.
        try await ExternalTools.check(
            "espsecure",
            ["extract-public-key", "--version", "1", "--keyfile", directory.path("esp.pem"), directory.path("raw.bin")])
        let espKey = try PrivateKeyCoding.decode(try directory.read("esp.pem"))
        #expect(try directory.read("raw.bin") == PublicKeyCoding.encode(espKey.publicKey, format: .raw))
        #expect(
            try PublicKeyCoding.decode(try directory.read("raw.bin")).rawRepresentation
                == espKey.publicKey.rawRepresentation)
    }

    @Test func otherKeyTypesAreUnsupportedAndSaySo() async throws {
        let directory = try TemporaryDirectory()
        // "@" stands for the output path; genrsa wants the key size last.
        let makers: [(String, [String], String)] = [
            ("rsa.pem", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", "@"], "RSA"),
            ("rsa1.pem", ["genrsa", "-traditional", "-out", "@", "1024"], "RSA"),
            ("ed.pem", ["genpkey", "-algorithm", "ed25519", "-out", "@"], "Ed25519"),
            (
                "p384.pem", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "@"],
                "ECDSA P-384 (secp384r1)"
            ),
            ("p384sec1.pem", ["ecparam", "-name", "secp384r1", "-genkey", "-out", "@"], "ECDSA P-384 (secp384r1)"),
        ]
        for (name, arguments, found) in makers {
            try await ExternalTools.check("openssl", arguments.map { $0 == "@" ? directory.path(name) : $0 })
            #expect(throws: CodeSigningError.unsupportedKeyType(found: found), "\(name)") {
                try PrivateKeyCoding.decode(try directory.read(name))
            }
            #expect(CodeSigningError.unsupportedKeyType(found: found).description.contains("P-256"))
            if name != "rsa1.pem" && name != "p384sec1.pem" {
                try await ExternalTools.check(
                    "openssl", ["pkey", "-in", directory.path(name), "-pubout", "-out", directory.path(name + ".pub")])
                #expect(throws: CodeSigningError.unsupportedKeyType(found: found), "\(name) public") {
                    try PublicKeyCoding.decode(try directory.read(name + ".pub"))
                }
            }
        }
    }

    @Test func corruptedKeysGiveDistinctErrors() throws {
        let pem = Array(P256.Signing.PrivateKey().pemRepresentation.utf8)
        // Broken base64 inside the armour.
        var badBase64 = pem
        badBase64[40] = UInt8(ascii: "!")
        #expect(throws: CodeSigningError.malformedPEM("the armour or its base64 is broken")) {
            try PrivateKeyCoding.decode(badBase64)
        }
        // Truncated PEM: no END line.
        #expect(throws: CodeSigningError.malformedPEM("the armour or its base64 is broken")) {
            try PrivateKeyCoding.decode(Array(pem.prefix(60)))
        }
        // Garbage DER and DER cut short.
        guard case .malformedKey? = thrown({ try PrivateKeyCoding.decode([0x30, 0x03, 0x02, 0x01]) }) else {
            Issue.record("truncated DER accepted"); return
        }
        let der = Array(P256.Signing.PrivateKey().derRepresentation)
        guard case .malformedKey? = thrown({ try PrivateKeyCoding.decode(Array(der.dropLast(10))) }) else {
            Issue.record("cut DER accepted"); return
        }
        guard case .malformedKey? = thrown({ try PublicKeyCoding.decode(Array(repeating: 7, count: 64)) }) else {
            Issue.record("64 bytes off the curve accepted as a public key"); return
        }
        // A certificate where a key is expected names what it found.
        #expect(throws: CodeSigningError.self) {
            try PrivateKeyCoding.decode(Array("-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n".utf8))
        }
    }
}

/// The CodeSigningError `body` throws, or nil when it returns; any other error is recorded as a test issue.
func thrown(_ body: () throws -> some Any, sourceLocation: SourceLocation = #_sourceLocation) -> CodeSigningError? {
    do {
        _ = try body()
        return nil
    } catch let error as CodeSigningError {
        return error
    } catch {
        Issue.record("expected a CodeSigningError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
