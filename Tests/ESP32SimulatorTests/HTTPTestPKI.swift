import CodeSigning
import Crypto

/// Certificates for the HTTP data plane tests, in memory: a CA (the one devices trust for MQTT and HTTPS), server
/// certificates it or a rogue CA issues, and device certificates for MQTT.
struct HTTPTestPKI {
    let ca: CertificateAuthority
    let rogue: CertificateAuthority

    init() throws {
        ca = try CertificateAuthority.create(
            commonName: "Test Service CA", key: P256.Signing.PrivateKey(), validity: Validity(days: 30))
        rogue = try CertificateAuthority.create(
            commonName: "Rogue CA", key: P256.Signing.PrivateKey(), validity: Validity(days: 30))
    }

    var caPEM: String { (try? CertificateCoding.encode(ca.certificate)) ?? "" }

    /// A TLS server certificate for `hosts` and its key, PEM.
    func server(hosts: [String] = ["localhost", "127.0.0.1"], issuer: CertificateAuthority? = nil) throws
        -> (certificatePEM: String, keyPEM: String)
    {
        let key = P256.Signing.PrivateKey()
        let certificate = try (issuer ?? ca).issue(
            .server(hosts: hosts), publicKey: key.publicKey, validity: Validity(days: 30))
        return (try CertificateCoding.encode(certificate), key.pemRepresentation + "\n")
    }

    /// A thing's MQTT client certificate and key, PEM.
    func device(_ thing: String) throws -> (certificatePEM: String, keyPEM: String) {
        let key = P256.Signing.PrivateKey()
        let certificate = try ca.issue(
            .device(thingName: thing), publicKey: key.publicKey, validity: Validity(days: 30))
        return (try CertificateCoding.encode(certificate), key.pemRepresentation + "\n")
    }
}
