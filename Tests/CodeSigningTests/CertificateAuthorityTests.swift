import CodeSigning
import Crypto
import Foundation
import TestSupport
import Testing
import X509

@Suite struct CertificateAuthorityTests {
    static func authority() throws -> CertificateAuthority {
        try CertificateAuthority.create(
            commonName: "Test Device CA", key: P256.Signing.PrivateKey(), validity: Validity(days: 365))
    }

    @Test func opensslVerifiesDeviceAndServerChains() async throws {
        let directory = try TemporaryDirectory()
        let ca = try Self.authority()
        let device = try ca.issue(
            .device(thingName: "esp32-0001"), publicKey: P256.Signing.PrivateKey().publicKey,
            validity: Validity(days: 30))
        let server = try ca.issue(
            .server(hosts: ["ota.example.test", "127.0.0.1", "::1"]), publicKey: P256.Signing.PrivateKey().publicKey,
            validity: Validity(days: 30))
        try directory.write("ca.pem", text: try CertificateCoding.encode(ca.certificate))
        try directory.write("device.pem", text: try CertificateCoding.encode(device))
        try directory.write("server.pem", text: try CertificateCoding.encode(server))
        for (name, purpose) in [("device.pem", "sslclient"), ("server.pem", "sslserver")] {
            let result = try await ExternalTools.run(
                "openssl", ["verify", "-CAfile", directory.path("ca.pem"), "-purpose", purpose, directory.path(name)])
            #expect(result.status == 0 && result.stdout.contains("OK"), "\(name): \(result.stdout)\(result.stderr)")
        }
        let text = try await ExternalTools.check(
            "openssl", ["x509", "-in", directory.path("server.pem"), "-noout", "-text"]
        )
        .stdout
        #expect(
            text.contains("DNS:ota.example.test") && text.contains("IP Address:127.0.0.1")
                && text.contains("TLS Web Server Authentication"))
        let deviceText = try await ExternalTools.check(
            "openssl", ["x509", "-in", directory.path("device.pem"), "-noout", "-subject", "-ext", "extendedKeyUsage"]
        ).stdout
        #expect(deviceText.contains("CN = esp32-0001") && deviceText.contains("TLS Web Client Authentication"))
        // A device certificate is not a server certificate.
        let wrongPurpose = try await ExternalTools.run(
            "openssl",
            ["verify", "-CAfile", directory.path("ca.pem"), "-purpose", "sslserver", directory.path("device.pem")])
        #expect(wrongPurpose.status != 0)
    }

    @Test func serialNumbersAreRandomSixteenByteValues() throws {
        let ca = try Self.authority()
        var seen = Set<[UInt8]>()
        for index in 0..<20 {
            let certificate = try ca.issue(
                .device(thingName: "t\(index)"), publicKey: P256.Signing.PrivateKey().publicKey,
                validity: Validity(days: 1))
            let bytes = Array(certificate.serialNumber.bytes)
            #expect(bytes.count == 16 && bytes[0] & 0x80 == 0)
            seen.insert(bytes)
        }
        #expect(seen.count == 20)
    }

    @Test func devicesWithTheirOwnKeySendCSRsFromOpenSSL() async throws {
        let directory = try TemporaryDirectory()
        let ca = try Self.authority()
        try await ExternalTools.check(
            "openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-out", directory.path("k.pem")])
        try await ExternalTools.check(
            "openssl",
            [
                "req", "-new", "-key", directory.path("k.pem"), "-subj", "/CN=esp32-0042", "-out",
                directory.path("req.pem"),
            ])
        let csr = try CertificateCoding.decodeCSR(try directory.read("req.pem"))
        let certificate = try ca.sign(csr, as: .device(thingName: "esp32-0042"), validity: Validity(days: 30))
        let key = try PrivateKeyCoding.decode(try directory.read("k.pem"))
        try certificate.checkMatches(key.publicKey)
        #expect(certificate.commonName == "esp32-0042")
        guard
            case .invalidArgument? = thrown({
                try ca.sign(csr, as: .device(thingName: "someone-else"), validity: Validity(days: 1))
            })
        else {
            Issue.record("CSR for another thing name signed"); return
        }
        // A CSR whose subject was changed after signing no longer verifies.
        let der = try await ExternalTools.check(
            "openssl", ["req", "-in", directory.path("req.pem"), "-outform", "DER", "-out", directory.path("req.der")])
        #expect(der.status == 0)
        var tampered = try directory.read("req.der")
        let cn = Array("esp32-0042".utf8)
        if let range = tampered.firstRange(of: cn) { tampered[range.upperBound - 1] = UInt8(ascii: "3") }
        let forged = try CertificateCoding.decodeCSR(tampered)
        #expect(throws: CodeSigningError.csrSignatureInvalid) {
            try ca.sign(forged, as: .device(thingName: "esp32-0043"), validity: Validity(days: 1))
        }
    }

    @Test func opensslCertificatesParseAndForeignKeyTypesAreNamed() async throws {
        let directory = try TemporaryDirectory()
        try await ExternalTools.check(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                directory.path("ec.key"),
                "-subj", "/CN=openssl signer", "-days", "3", "-out", directory.path("ec.pem"),
            ])
        let certificate = try CertificateCoding.decode(try directory.read("ec.pem"))
        #expect(certificate.commonName == "openssl signer")
        try certificate.checkMatches(try PrivateKeyCoding.decode(try directory.read("ec.key")).publicKey)
        try await ExternalTools.check(
            "openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", directory.path("rsa.key"), "-subj",
                "/CN=rsa",
                "-days", "3", "-out", directory.path("rsa.pem"),
            ])
        let rsa = try CertificateCoding.decode(try directory.read("rsa.pem"))
        guard case .unsupportedKeyType? = thrown({ try rsa.p256PublicKey() }) else {
            Issue.record("RSA certificate accepted as a P-256 signer"); return
        }
        guard
            case .malformedPEM? = thrown({
                try CertificateCoding.decode(Array(try directory.read("ec.pem").dropLast(80)))
            })
        else {
            Issue.record("truncated PEM certificate accepted"); return
        }
        try await ExternalTools.check(
            "openssl", ["x509", "-in", directory.path("ec.pem"), "-outform", "DER", "-out", directory.path("ec.der")])
        guard
            case .malformedCertificate? = thrown({
                try CertificateCoding.decode(Array(try directory.read("ec.der").dropLast(10)))
            })
        else {
            Issue.record("truncated DER certificate accepted"); return
        }
        #expect(try CertificateCoding.decode(try directory.read("ec.der")) == certificate)
    }

    @Test func thingNamesAreCheckedBeforeTheyBecomeCommonNames() throws {
        let ca = try Self.authority()
        for bad in ["", "has space", "a/b", "+", "#", "x\u{0}y", String(repeating: "a", count: 129)] {
            guard
                case .invalidArgument? = thrown({
                    try ca.issue(
                        .device(thingName: bad), publicKey: P256.Signing.PrivateKey().publicKey,
                        validity: Validity(days: 1))
                })
            else { Issue.record("thing name \(bad.debugDescription) accepted"); continue }
        }
    }

    @Test func caPairsMustMatch() throws {
        let ca = try Self.authority()
        #expect(throws: CodeSigningError.certificateKeyMismatch) {
            try CertificateAuthority(certificate: ca.certificate, key: P256.Signing.PrivateKey())
        }
        let leafKey = P256.Signing.PrivateKey()
        let leaf = try ca.issue(.device(thingName: "d"), publicKey: leafKey.publicKey, validity: Validity(days: 1))
        guard case .invalidArgument? = thrown({ try CertificateAuthority(certificate: leaf, key: leafKey) }) else {
            Issue.record("a device certificate was accepted as a CA"); return
        }
    }
}
