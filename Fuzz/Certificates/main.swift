// libFuzzer target: X.509 certificates, chains and CSRs in PEM or DER, as the CLI, the API (registered device
// certificates and CAs, CSRs) and the service's trust store read them (scripts/fuzz). Besides never crashing: every
// failure is a CodeSigningError, a certificate or CSR that decodes writes PEM that decodes to the same value, and a
// CSR goes on to the service CA's checks (its own signature, a P-256 key, the thing name) as the API's does.
import CodeSigning
import Crypto

/// Stands for the service CA of POST /api/v1/things/{name}/certificates.
let authority = try? CertificateAuthority.create(
    commonName: "Fuzz CA", key: P256.Signing.PrivateKey(), validity: Validity(days: 1))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCertificates(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let chain = try? CertificateCoding.decodeChain(bytes) {
        for certificate in chain {
            let pem = try? CertificateCoding.encode(certificate)
            let again = pem.flatMap { try? CertificateCoding.decode(Array($0.utf8)) }
            precondition(again == certificate, "certificate PEM round trip")
            _ = try? certificate.p256PublicKey()
            _ = certificate.commonName
        }
    }
    if let csr = try? CertificateCoding.decodeCSR(bytes) {
        let pem = try? CertificateCoding.encodeCSR(csr)
        precondition(pem.flatMap { try? CertificateCoding.decodeCSR(Array($0.utf8)) } == csr, "CSR PEM round trip")
        _ = try? authority?.sign(csr, as: .device(thingName: "esp32-0001"), validity: Validity(days: 1))
    }
    return 0
}
