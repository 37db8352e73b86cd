import Crypto
import SwiftASN1

/// A P-256 certificate re-encoded with the other valid form of its signature: (r, s) becomes (r, n − s), which
/// verifies against the same signed part and key. Anyone can compute it from the certificate alone; its DER, and so
/// its fingerprint, differs from the original's.
enum ECDSATwin {
    /// The order of P-256's group, n.
    static let order: [UInt8] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
    ]

    static func of(_ certificateDER: [UInt8]) throws -> [UInt8] {
        let root = try DER.parse(certificateDER)
        guard case .constructed(let nodes) = root.content else { throw ASN1Error.invalidASN1Object(reason: "") }
        let parts = Array(nodes)
        guard parts.count == 3 else { throw ASN1Error.invalidASN1Object(reason: "not a certificate") }
        let signatureBits = try ASN1BitString(derEncoded: parts[2])
        let signature = try P256.Signing.ECDSASignature(derRepresentation: Array(signatureBits.bytes))
        let raw = Array(signature.rawRepresentation)
        let twin = try P256.Signing.ECDSASignature(rawRepresentation: raw[..<32] + subtract(raw[32...], from: order))
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { coder in
            coder.serializeRawBytes(parts[0].encodedBytes)
            coder.serializeRawBytes(parts[1].encodedBytes)
            try coder.serialize(ASN1BitString(bytes: ArraySlice(twin.derRepresentation)))
        }
        return serializer.serializedBytes
    }

    /// `minuend − subtrahend`, both big-endian and as long as each other.
    private static func subtract(_ subtrahend: ArraySlice<UInt8>, from minuend: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: minuend.count)
        var borrow = 0
        for (index, right) in zip(minuend.indices, subtrahend).reversed() {
            let difference = Int(minuend[index]) - Int(right) - borrow
            result[index] = UInt8((difference + 256) % 256)
            borrow = difference < 0 ? 1 : 0
        }
        return result
    }
}
