import Foundation
import NIOSSL

/// Certificates made by openssl, nobody's code but theirs: CAs (root or intermediate), device certificates they
/// sign, and self-signed device certificates, with P-256 keys — what a factory's PKI hands over with its devices.
public struct OpenSSLPKI: Sendable {
    /// A certificate and key on disk, and the certificate's DER and SHA-256 fingerprint (lowercase hex).
    public struct Issued: Sendable {
        public let certificatePath: String
        public let keyPath: String
        public let der: [UInt8]
        public let fingerprint: String

        public var pem: String { (try? String(contentsOfFile: certificatePath, encoding: .utf8)) ?? "" }
        public var keyPEM: String { (try? String(contentsOfFile: keyPath, encoding: .utf8)) ?? "" }
    }

    /// What a certificate is for: its extensions, as sections of the openssl configuration below.
    public enum Profile: String, Sendable {
        case authority = "ca"
        case clientDevice = "device"
        case serverOnly = "server"
    }

    static let configuration = """
        [req]
        distinguished_name = dn
        [dn]
        [ca]
        basicConstraints = critical,CA:TRUE
        keyUsage = critical,keyCertSign,cRLSign
        subjectKeyIdentifier = hash
        [device]
        basicConstraints = CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = clientAuth
        [server]
        basicConstraints = CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = serverAuth

        """

    public let directory: String
    private var configurationPath: String { directory + "/openssl-test.cnf" }

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(Self.configuration.utf8).write(to: URL(fileURLWithPath: directory + "/openssl-test.cnf"))
    }

    /// `name`.pem and `name`.key: signed by `issuer`, or self-signed when it is nil.
    public func make(
        _ name: String, commonName: String, profile: Profile, signedBy issuer: Issued? = nil, days: Int = 30
    ) async throws -> Issued {
        let key = directory + "/\(name).key"
        let certificate = directory + "/\(name).pem"
        try await ExternalTools.check(
            "openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key])
        let subject = ["-subj", "/O=Test Factory/CN=\(commonName)", "-days", "\(days)"]
        if let issuer {
            let request = directory + "/\(name).csr"
            try await ExternalTools.check(
                "openssl", ["req", "-new", "-config", configurationPath, "-key", key, "-out", request] + subject)
            let serial = "0x" + (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...127)) }.joined()
            try await ExternalTools.check(
                "openssl",
                [
                    "x509", "-req", "-in", request, "-CA", issuer.certificatePath, "-CAkey", issuer.keyPath,
                    "-set_serial", serial, "-extfile", configurationPath, "-extensions", profile.rawValue, "-out",
                    certificate,
                ] + subject.suffix(2))
        } else {
            try await ExternalTools.check(
                "openssl",
                [
                    "req", "-x509", "-new", "-config", configurationPath, "-extensions", profile.rawValue, "-key", key,
                    "-out", certificate,
                ] + subject)
        }
        let der = try NIOSSLCertificate.fromPEMFile(certificate)[0].toDERBytes()
        let digest = try await ExternalTools.check("openssl", ["dgst", "-sha256", "-r"], stdin: Data(der))
        return Issued(
            certificatePath: certificate, keyPath: key, der: der,
            fingerprint: String(digest.stdout.prefix { !$0.isWhitespace }))
    }
}
