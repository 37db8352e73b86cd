// libFuzzer target: OTAWire's JSON parser, under the default and the device-request limits (scripts/fuzz).
// Besides never crashing: what parses must serialize and parse back to the same value, and what the device
// limits accept the default limits accept too.
import OTAWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let loose = try? JSONParser.parse(bytes)
    if let loose {
        precondition((try? JSONParser.parse(loose.serialized)) == loose, "serialized JSON does not parse back")
    }
    if let strict = try? JSONParser.parse(bytes, limits: .deviceRequest) {
        precondition(strict == loose, "the device limits accept what the default limits refuse")
    }
    return 0
}
