// libFuzzer target: OTAWire's CBOR decoder, under the default and the device-request limits (scripts/fuzz).
// Besides never crashing: a decoded item re-encodes (shortest, definite form) to bytes that decode and re-encode
// to the same bytes. Encodings are compared, not values: a NaN is never equal to itself.
import OTAWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCBOR(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let value = try? CBORDecoder.decode(bytes) {
        let encoded = value.encoded
        guard let again = try? CBORDecoder.decode(encoded) else { preconditionFailure("re-encoded CBOR is refused") }
        precondition(again.encoded == encoded, "re-encoding is not stable")
    }
    _ = try? CBORDecoder.decode(bytes, limits: .deviceRequest)
    return 0
}
