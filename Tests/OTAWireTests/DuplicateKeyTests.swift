import Testing

@testable import OTAWire

// Duplicate keys are refused wherever they sit (first and last member, neighbours, nested objects, two spellings
// of one key), and the check stays O(n log n): 20,000 distinct keys parse.
@Suite struct DuplicateKeyTests {
    static func object(_ keys: [String]) -> String {
        "{" + keys.map { #""\#($0)":0"# }.joined(separator: ",") + "}"
    }

    @Test(arguments: [2, 3, 5, 17, 64])
    func jsonRefusesADuplicateAtEveryPairOfPositions(_ count: Int) throws {
        let keys = (0..<count).map { "k\($0)" }
        _ = try JSONParser.parse(Self.object(keys))
        for first in 0..<count {
            for second in first + 1..<count {
                var duplicated = keys
                duplicated[second] = keys[first]
                #expect(throws: JSONError.self, "keys \(first) and \(second) of \(count)") {
                    try JSONParser.parse(Self.object(duplicated))
                }
            }
        }
    }

    @Test func jsonComparesKeysAfterEscapesAndPrefixesAreDistinct() throws {
        #expect(throws: JSONError.self) { try JSONParser.parse(#"{"a":1,"\u0061":2}"#) }
        #expect(throws: JSONError.self) { try JSONParser.parse(#"{"x":{"é":1,"\u00e9":2}}"#) }
        #expect(throws: JSONError.self) { try JSONParser.parse(#"[{"a":1},{"b":1,"b":2}]"#) }
        let distinct = try JSONParser.parse(#"{"a":1,"ab":2,"b":3,"":4,"a\u0000":5,"x":{"a":6}}"#)
        #expect(distinct.objectValue?.members.count == 6)
        // The same key in sibling and nested objects is no duplicate.
        _ = try JSONParser.parse(#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}"#)
    }

    @Test func jsonWithTwentyThousandKeysParsesAndADuplicateAmongThemIsFound() throws {
        let keys = (0..<20_000).map { "key\($0)" }
        let parsed = try JSONParser.parse(Self.object(keys))
        #expect(parsed.objectValue?.members.count == 20_000)
        #expect(parsed["key19999"] == .number("0"))
        for (first, second) in [(0, 19_999), (9_999, 10_000), (19_998, 19_999), (0, 1)] {
            var duplicated = keys
            duplicated[second] = keys[first]
            #expect(throws: JSONError.self) { try JSONParser.parse(Self.object(duplicated)) }
        }
    }

    @Test(arguments: [
        "a2616101616102",  // {"a":1,"a":2}
        "a201000100",  // {1:0,1:0}
        "a26161007f6161ff00",  // "a" definite, then indefinite
        "a20100180100",  // 1 in its short form, then with a one-byte head
        "bf61610161610aff",  // an indefinite map
        "a16178a2616201616201",  // a nested map
        "a3616100616201616100",  // first and last of three
    ])
    func cborRefusesDuplicateKeysInAnySpelling(_ hex: String) {
        #expect(throws: CBORError.self) { try CBORDecoder.decode(bytes(hex)) }
    }

    @Test func cborKeysOfDifferentTypesAreDistinct() throws {
        // 1, -2, "a", h'61' and 1.0 are five different keys.
        let value = try CBORDecoder.decode(bytes("a501002100616100416100fb3ff000000000000000"))
        guard case .map(let pairs) = value else { throw CBORError(offset: 0, reason: "not a map") }
        #expect(pairs.count == 5)
    }

    @Test func cborFindsADuplicateAmongManyPairs() throws {
        let pairs = (0..<5_000).map { CBORPair(.unsigned(UInt64($0 * 7)), .unsigned(0)) }
        #expect(try CBORDecoder.decode(CBORValue.map(pairs).encoded) == .map(pairs))
        var duplicated = pairs
        duplicated[4_999] = pairs[1_234]
        #expect(throws: CBORError.self) { try CBORDecoder.decode(CBORValue.map(duplicated).encoded) }
    }

    @Test func streamRequestsWithDuplicateKeysAreInvalidCBOROrJSON() {
        let cbor = CBORValue.map([
            CBORPair(.text("f"), .unsigned(0)), CBORPair(.text("l"), .unsigned(4096)),
            CBORPair(.text("f"), .unsigned(1)),
        ]).encoded
        #expect(streamCode { try StreamRequest.decodeCBOR(cbor) } == .invalidCBOR)
        #expect(streamCode { try StreamRequest.decodeJSON(Array(#"{"f":0,"l":4096,"f":1}"#.utf8)) } == .invalidJSON)
    }
}

/// The code a stream request decoder rejects with, nil when it accepts.
func streamCode(_ decode: () throws -> StreamRequest) -> StreamErrorCode? {
    do {
        _ = try decode()
        return nil
    } catch let error as StreamRequestError { return error.code } catch { return .internalError }
}
