import Testing

@testable import OTAWire

// Device requests are parsed under DecodingLimits.deviceRequest: well-formed input over a limit fails as
// `.limitExceeded` (InvalidRequest on the wire), malformed input as `.malformed` (InvalidJson / InvalidCbor).
@Suite struct DecodingLimitsTests {
    static let limits = DecodingLimits.deviceRequest

    static func jsonFailure(_ text: String, _ limits: DecodingLimits = limits) -> DecodingFailure? {
        do {
            _ = try JSONParser.parse(Array(text.utf8), limits: limits)
            return nil
        } catch { return error.failure }
    }

    static func cborFailure(_ data: [UInt8], _ limits: DecodingLimits = limits) -> DecodingFailure? {
        do {
            _ = try CBORDecoder.decode(data, limits: limits)
            return nil
        } catch { return error.failure }
    }

    static func members(_ count: Int) -> String {
        "{" + (0..<count).map { #""k\#($0)":0"# }.joined(separator: ",") + "}"
    }

    @Test func jsonSizeMembersAndDepthAreBounded() {
        #expect(Self.jsonFailure(Self.members(64)) == nil)
        #expect(Self.jsonFailure(Self.members(65)) == .limitExceeded)
        #expect(Self.jsonFailure(Self.members(65), .json) == nil, "the default limits bound only the depth")
        let padding = String(repeating: " ", count: Self.limits.maximumBytes - 2)
        #expect(Self.jsonFailure("{" + padding + "}") == nil)
        #expect(Self.jsonFailure("{" + padding + " }") == .limitExceeded)
        let depth = Self.limits.maximumDepth
        #expect(Self.jsonFailure(String(repeating: "[", count: depth) + String(repeating: "]", count: depth)) == nil)
        #expect(
            Self.jsonFailure(String(repeating: "[", count: depth + 1) + String(repeating: "]", count: depth + 1))
                == .limitExceeded)
        #expect(Self.jsonFailure("{\"a\":1,\"a\":2}") == .malformed)
    }

    @Test func jsonMemberLimitStopsBeforeReadingTheRest() {
        // The 65th key is refused as soon as it starts: what follows it is never read, malformed or not.
        #expect(Self.jsonFailure(String(Self.members(65).dropLast()) + ",\u{01}") == .limitExceeded)
    }

    @Test func cborSizePairsAndDepthAreBounded() {
        let pairs = { (count: Int) in
            CBORValue.map((0..<count).map { CBORPair(.unsigned(UInt64($0)), .unsigned(0)) }).encoded
        }
        #expect(Self.cborFailure(pairs(64)) == nil)
        #expect(Self.cborFailure(pairs(65)) == .limitExceeded)
        // An indefinite map of 65 pairs.
        var indefinite: [UInt8] = [0xBF]
        for key in 0..<65 { indefinite += CBORValue.unsigned(UInt64(key)).encoded + [0x00] }
        indefinite.append(0xFF)
        #expect(Self.cborFailure(indefinite) == .limitExceeded)
        #expect(Self.cborFailure(indefinite, .cbor) == nil)
        #expect(Self.cborFailure(CBORValue.bytes([UInt8](repeating: 1, count: 32 * 1024)).encoded) == .limitExceeded)
        #expect(Self.cborFailure([UInt8](repeating: 0x81, count: 9) + [0]) == .limitExceeded)
        #expect(Self.cborFailure([UInt8](repeating: 0x81, count: 8) + [0]) == nil)
        #expect(Self.cborFailure([0xA1, 0x61]) == .malformed)
    }

    @Test func jobsRequestBodiesOverTheLimitsAreInvalidRequest() {
        func code(_ text: String) -> JobsErrorCode? {
            do {
                _ = try jobsRequestBody(Array(text.utf8))
                return nil
            } catch { return error.code }
        }
        #expect(code(Self.members(20_000)) == .invalidRequest)
        #expect(code(Self.members(65)) == .invalidRequest)
        #expect(code(Self.members(64)) == nil)
        #expect(code(String(repeating: " ", count: 40_000)) == .invalidRequest)
        #expect(code("  \n") == nil)
        #expect(code(#"{"a":1,"b":2,"a":3}"#) == .invalidJSON)
        #expect(code(#"{"statusDetails":{"x":{"y":{"z":{"w":{"v":{"u":{"t":{"s":1}}}}}}}}}"#) == .invalidRequest)
    }

    @Test func streamRequestsOverTheLimitsAreInvalidRequest() throws {
        let bigBitmap = StreamRequest(fileID: 0, blockSize: 256, bitmap: [UInt8](repeating: 0xFF, count: 40_000))
        #expect(streamCode { try StreamRequest.decodeCBOR(bigBitmap.cborEncoded) } == .invalidRequest)
        #expect(streamCode { try StreamRequest.decodeJSON(Array(Self.members(65).utf8)) } == .invalidRequest)
        // The largest bitmap the service serves (12,288 bytes) still fits, in CBOR and as JSON hex.
        let hex = "0x" + String(repeating: "ff", count: 12_288)
        #expect(streamCode { try StreamRequest.decodeJSON(Array(#"{"f":0,"l":256,"b":"\#(hex)"}"#.utf8)) } == nil)
        let largest = StreamRequest(fileID: 0, blockSize: 256, bitmap: [UInt8](repeating: 0xFF, count: 12_288))
        #expect(streamCode { try StreamRequest.decodeCBOR(largest.cborEncoded) } == nil)
        #expect(throws: StreamRequestError.self) { try DescribeStreamRequest.decodeCBOR(bigBitmap.cborEncoded) }
        #expect(try DescribeStreamRequest.decodeJSON(Array(#"{"c":"t1"}"#.utf8)).clientToken == "t1")
        #expect(try DescribeStreamRequest.decodeCBOR([]).clientToken == nil)
    }
}
