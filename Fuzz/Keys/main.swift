// libFuzzer target: P-256 keys and signatures as the CLI, the signing profiles and the API read them
// (scripts/fuzz): private keys (PKCS#8 or SEC1, PEM or DER), public keys (PEM, DER, raw X‖Y, or the public half of a
// certificate or private key) and OTA signatures (DER or its base64). Besides never crashing: every failure is a
// CodeSigningError, and what decodes writes in every format to bytes that decode to the same key or signature.
import CodeSigning

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKeys(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let key = try? PrivateKeyCoding.decode(bytes) {
        for format in PrivateKeyFormat.allCases {
            let again = try? PrivateKeyCoding.decode(PrivateKeyCoding.encode(key, format: format))
            precondition(again?.rawRepresentation == key.rawRepresentation, "private key \(format) round trip")
        }
    }
    if let key = try? PublicKeyCoding.decode(bytes) {
        for format in PublicKeyFormat.allCases {
            let again = try? PublicKeyCoding.decode(PublicKeyCoding.encode(key, format: format))
            precondition(again?.rawRepresentation == key.rawRepresentation, "public key \(format) round trip")
        }
    }
    if let signature = try? CodeSignature(encoded: bytes) {
        precondition((try? CodeSignature(der: signature.der)) == signature, "signature DER round trip")
        precondition((try? CodeSignature(encoded: Array(signature.base64.utf8))) == signature, "base64 round trip")
    }
    return 0
}
