// Finds out what kind of key a DER structure holds before trusting it, so that RSA, Ed25519 or P-384 keys
// are refused with "unsupported key type" rather than a parser's generic failure.
import SwiftASN1

/// The algorithm (and curve) of a key, as named in PKCS#8, SEC1 or SubjectPublicKeyInfo.
enum KeyAlgorithm: Equatable {
    case p256
    case otherCurve(String)
    case rsa
    case ed25519
    case x25519
    case unknown(String)

    static func ellipticCurve(_ oid: ASN1ObjectIdentifier) -> KeyAlgorithm {
        switch oid {
        case ObjectIdentifiers.prime256v1: return .p256
        case ObjectIdentifiers.secp384r1: return .otherCurve("ECDSA P-384 (secp384r1)")
        case ObjectIdentifiers.secp521r1: return .otherCurve("ECDSA P-521 (secp521r1)")
        case ObjectIdentifiers.secp256k1: return .otherCurve("ECDSA secp256k1")
        default: return .otherCurve("an elliptic curve with OID \(oid)")
        }
    }

    static func algorithm(_ oid: ASN1ObjectIdentifier, parameters: ASN1Node?) -> KeyAlgorithm {
        switch oid {
        case ObjectIdentifiers.ecPublicKey:
            guard let parameters, let curve = try? ASN1ObjectIdentifier(derEncoded: parameters) else {
                return .unknown("an EC key without a named curve")
            }
            return ellipticCurve(curve)
        case ObjectIdentifiers.rsaEncryption, ObjectIdentifiers.rsaPSS: return .rsa
        case ObjectIdentifiers.ed25519: return .ed25519
        case ObjectIdentifiers.x25519: return .x25519
        default: return .unknown("algorithm OID \(oid)")
        }
    }

    var name: String {
        switch self {
        case .p256: return "ECDSA P-256"
        case .otherCurve(let name): return name
        case .rsa: return "RSA"
        case .ed25519: return "Ed25519"
        case .x25519: return "X25519"
        case .unknown(let what): return what
        }
    }

    /// Throws `unsupportedKeyType` for anything but P-256.
    func requireP256() throws(CodeSigningError) {
        guard self == .p256 else { throw .unsupportedKeyType(found: name) }
    }
}

enum ObjectIdentifiers {
    static let ecPublicKey: ASN1ObjectIdentifier = [1, 2, 840, 10045, 2, 1]
    static let prime256v1: ASN1ObjectIdentifier = [1, 2, 840, 10045, 3, 1, 7]
    static let secp384r1: ASN1ObjectIdentifier = [1, 3, 132, 0, 34]
    static let secp521r1: ASN1ObjectIdentifier = [1, 3, 132, 0, 35]
    static let secp256k1: ASN1ObjectIdentifier = [1, 3, 132, 0, 10]
    static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 1]
    static let rsaPSS: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 10]
    static let ed25519: ASN1ObjectIdentifier = [1, 3, 101, 112]
    static let x25519: ASN1ObjectIdentifier = [1, 3, 101, 110]
}

enum KeyInspection {
    /// The algorithm of a private key in PKCS#8 (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) DER.
    static func privateKeyAlgorithm(der: [UInt8]) throws(CodeSigningError) -> KeyAlgorithm {
        let root: ASN1Node
        do {
            root = try DER.parse(der)
        } catch {
            throw .malformedKey("the DER encoding is broken (\(error))")
        }
        guard case .constructed(let children) = root.content, root.identifier == .sequence else {
            throw .malformedKey("expected an ASN.1 SEQUENCE")
        }
        let nodes = Array(children)
        guard nodes.count >= 2 else { throw .malformedKey("the key structure is too short") }
        // PKCS#8: INTEGER version, SEQUENCE AlgorithmIdentifier, OCTET STRING key.
        if nodes[1].identifier == .sequence, case .constructed(let algorithm) = nodes[1].content {
            let parts = Array(algorithm)
            guard let first = parts.first, let oid = try? ASN1ObjectIdentifier(derEncoded: first) else {
                throw .malformedKey("the PKCS#8 algorithm identifier has no OID")
            }
            return KeyAlgorithm.algorithm(oid, parameters: parts.count > 1 ? parts[1] : nil)
        }
        // SEC1 ECPrivateKey: INTEGER 1, OCTET STRING key, [0] named curve, [1] public key.
        if nodes[1].identifier == .octetString {
            for node in nodes.dropFirst(2)
            where node.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
                guard case .constructed(let inner) = node.content, let curveNode = inner.first(where: { _ in true }),
                    let curve = try? ASN1ObjectIdentifier(derEncoded: curveNode)
                else { throw .malformedKey("the SEC1 key's curve parameter is not a named curve") }
                return KeyAlgorithm.ellipticCurve(curve)
            }
            // Without parameters the curve follows from the scalar's length: 32 bytes is P-256.
            if case .primitive(let scalar) = nodes[1].content, scalar.count == 32 { return .p256 }
            throw .malformedKey("the SEC1 key names no curve and is not 32 bytes long")
        }
        // PKCS#1 RSAPrivateKey: INTEGER version, INTEGER modulus, ...
        if nodes[1].identifier == .integer, nodes.count >= 9 { return .rsa }
        throw .malformedKey("neither PKCS#8 nor SEC1")
    }

    /// The algorithm of a SubjectPublicKeyInfo (`PUBLIC KEY`).
    static func publicKeyAlgorithm(der: [UInt8]) throws(CodeSigningError) -> KeyAlgorithm {
        guard let root = try? DER.parse(der), case .constructed(let children) = root.content,
            let algorithmNode = children.first(where: { _ in true }),
            case .constructed(let algorithm) = algorithmNode.content
        else { throw .malformedKey("not a SubjectPublicKeyInfo structure") }
        let parts = Array(algorithm)
        guard let first = parts.first, let oid = try? ASN1ObjectIdentifier(derEncoded: first) else {
            throw .malformedKey("the public key's algorithm identifier has no OID")
        }
        return KeyAlgorithm.algorithm(oid, parameters: parts.count > 1 ? parts[1] : nil)
    }
}
