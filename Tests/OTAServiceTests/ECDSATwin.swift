import Crypto
import SwiftASN1

/// A P-256 certificate re-encoded with the other valid form of its signature: (r, s) becomes (r, n − s), which
/// verifies against the same signed part and key. Anyone can compute it from the certificate alone; its DER, and so
/// its fingerprint, differs from the original's.
enum ECDSATwin {
    /// The order of P-256's group.
    static let order: [UInt8] = Array(
        "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551".utf8.chunks(of: 2).map {
            UInt8(String(decoding: $0, as: UTF8.self), radix: 16)!
        })

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

extension Sequence {
    fileprivate func chunks(of size: Int) -> [[Element]] {
        var chunks: [[Element]] = []
        for element in self {
            if chunks.last.map({ $0.count < size }) ?? false {
                chunks[chunks.count - 1].append(element)
            } else {
                chunks.append([element])
            }
        }
        return chunks
    }
}
