import CodeSigning
import Crypto
import Foundation
import X509

// The service's own PKI in `<data-dir>/pki`: a device CA (issues device certificates and the server
// certificate) and the gateway's TLS server certificate. Created on first start; keys are written 0600.

public struct ServicePKI: Sendable {
    public let directory: String
    public let authority: CertificateAuthority

    public var caCertificatePath: String { directory + "/ca.pem" }
    public var serverCertificatePath: String { directory + "/server.pem" }
    public var serverKeyPath: String { directory + "/server.key" }
    private var caKeyPath: String { directory + "/ca.key" }

    /// Loads the PKI, or creates it with a server certificate for `hosts` when the directory has none.
    public static func openOrCreate(directory: String, hosts: [String]) throws -> (pki: ServicePKI, created: Bool) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let caKey = directory + "/ca.key"
        if FileManager.default.fileExists(atPath: caKey) {
            let key = try KeyFiles.readPrivateKey(at: caKey)
            let certificate = try CertificateCoding.decode(try KeyFiles.readFile(directory + "/ca.pem"))
            return (
                ServicePKI(
                    directory: directory, authority: try CertificateAuthority(certificate: certificate, key: key)),
                false
            )
        }
        let key = P256.Signing.PrivateKey()
        let authority = try CertificateAuthority.create(
            commonName: "SwiftOTA Device CA", key: key, validity: Validity(days: 3650))
        let pki = ServicePKI(directory: directory, authority: authority)
        try KeyFiles.writeFile(
            Array(try CertificateCoding.encode(authority.certificate).utf8), to: pki.caCertificatePath, mode: 0o644)
        let serverKey = P256.Signing.PrivateKey()
        let server = try authority.issue(
            .server(hosts: hosts), publicKey: serverKey.publicKey, validity: Validity(days: 825))
        try KeyFiles.writeFile(
            Array(try CertificateCoding.encode(server).utf8), to: pki.serverCertificatePath, mode: 0o644)
        try KeyFiles.writePrivateKey(serverKey, to: pki.serverKeyPath)
        // The CA key last: its presence marks a complete PKI.
        try KeyFiles.writePrivateKey(key, to: caKey)
        return (pki, true)
    }

    /// A new key and a device certificate for `thing` (CN = thing name, clientAuth), both PEM.
    public func issueDevice(_ thing: String, days: Int = 825) throws -> (certificatePEM: String, privateKeyPEM: String)
    {
        let key = P256.Signing.PrivateKey()
        let certificate = try authority.issue(
            .device(thingName: thing), publicKey: key.publicKey, validity: Validity(days: days))
        return (
            try CertificateCoding.encode(certificate),
            String(decoding: PrivateKeyCoding.encode(key, format: .pkcs8PEM), as: UTF8.self)
        )
    }

    /// A device certificate for the key in a CSR the device made itself.
    public func signDeviceCSR(_ pem: String, thing: String, days: Int = 825) throws -> String {
        let csr = try CertificateCoding.decodeCSR(Array(pem.utf8))
        return try CertificateCoding.encode(
            try authority.sign(csr, as: .device(thingName: thing), validity: Validity(days: days)))
    }
}
