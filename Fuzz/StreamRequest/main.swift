// libFuzzer target: the Streams payloads (scripts/fuzz). The first byte picks the parser: GetStream in CBOR or
// JSON and DescribeStream as the service reads them, or a data block as the agent reads it. A GetStream request
// that decodes must decode the same from its own CBOR encoding.
import OTAWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStreamRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let payload = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    switch data[0] % 4 {
    case 0:
        if let request = try? StreamRequest.decodeCBOR(payload) {
            precondition((try? StreamRequest.decodeCBOR(request.cborEncoded)) == request, "GetStream round trip")
        }
    case 1:
        if let request = try? StreamRequest.decodeJSON(payload) {
            precondition((try? StreamRequest.decodeCBOR(request.cborEncoded)) == request, "JSON GetStream as CBOR")
        }
    case 2:
        _ = try? DescribeStreamRequest.decodeCBOR(payload)
        _ = try? DescribeStreamRequest.decodeJSON(payload)
    default:
        if let block = StreamDataBlock.decodeCBOR(payload) {
            precondition(StreamDataBlock.decodeCBOR(block.cborEncoded) == block, "data block round trip")
        }
    }
    return 0
}
