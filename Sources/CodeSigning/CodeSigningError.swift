// Every way a key, certificate or signature can be refused, each saying what was wrong and what to do.

public enum CodeSigningError: Error, Equatable, Sendable, CustomStringConvertible {
    case unsupportedKeyType(found: String)
    case malformedKey(String)
    case malformedPEM(String)
    case insecureKeyPermissions(path: String, mode: String)
    case unreadableFile(path: String, reason: String)
    case unwritableFile(path: String, reason: String)
    case malformedCertificate(String)
    case malformedCSR(String)
    case csrSignatureInvalid
    case certificateKeyMismatch
    case certificateExpired(notAfter: String)
    case certificateNotYetValid(notBefore: String)
    case malformedSignature(String)
    case signatureMismatch
    case secureBootBlockMissing
    case invalidImage(String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .unsupportedKeyType(let found):
            return "unsupported key type: \(found); SwiftOTA signs with ECDSA on NIST P-256 (prime256v1/secp256r1) "
                + "only, the algorithm the FreeRTOS OTA agent and ESP32 secure boot v1 verify "
                + "(make one with `ota keys generate` or `openssl ecparam -name prime256v1 -genkey`)"
        case .malformedKey(let reason):
            return "not a readable P-256 key: \(reason)"
        case .malformedPEM(let reason):
            return "not a readable PEM file: \(reason)"
        case .insecureKeyPermissions(let path, let mode):
            return "private key \(path) has permissions \(mode) and can be read by group or others; "
                + "run `chmod 600 \(path)` (or pass --insecure-key-permissions to use it anyway)"
        case .unreadableFile(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .unwritableFile(let path, let reason):
            return "cannot write \(path): \(reason)"
        case .malformedCertificate(let reason):
            return "not a readable X.509 certificate: \(reason)"
        case .malformedCSR(let reason):
            return "not a readable certificate signing request: \(reason)"
        case .csrSignatureInvalid:
            return "the certificate signing request's signature does not verify with its own public key; "
                + "it was altered or not made with the key it names"
        case .certificateKeyMismatch:
            return
                "the certificate's public key does not match the signing key; use the certificate issued for this key"
        case .certificateExpired(let notAfter):
            return "the certificate expired on \(notAfter); issue a new one"
        case .certificateNotYetValid(let notBefore):
            return "the certificate is not valid before \(notBefore); check the clock or the certificate's dates"
        case .malformedSignature(let reason):
            return "not a readable ECDSA signature: \(reason)"
        case .signatureMismatch:
            return "the signature does not verify: the data was changed after signing, or it was signed with "
                + "a different key"
        case .secureBootBlockMissing:
            return "the image has no secure boot v1 signature block (68 bytes with version word 0) after its SHA-256"
        case .invalidImage(let reason):
            return "not a valid app image: \(reason)"
        case .invalidArgument(let message):
            return message
        }
    }
}
