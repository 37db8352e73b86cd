import Testing

@testable import OTAWire

@Suite struct CBORTests {
    /// RFC 8949 Appendix A examples.
    @Test(arguments: [
        ("00", CBORValue.unsigned(0)), ("17", .unsigned(23)), ("1818", .unsigned(24)), ("1903e8", .unsigned(1000)),
        ("1a000f4240", .unsigned(1_000_000)), ("1b000000e8d4a51000", .unsigned(1_000_000_000_000)),
        ("20", .negative(0)), ("3863", .negative(99)), ("40", .bytes([])), ("4401020304", .bytes([1, 2, 3, 4])),
        ("6161", .text("a")), ("62c3bc", .text("ü")), ("83010203", .array([.unsigned(1), .unsigned(2), .unsigned(3)])),
        ("a201020304", .map([CBORPair(.unsigned(1), .unsigned(2)), CBORPair(.unsigned(3), .unsigned(4))])),
        ("f4", .simple(20)), ("f5", .simple(21)), ("f6", .simple(22)), ("f90001", .float(5.960464477539063e-8)),
        ("fa47c35000", .float(100000.0)), ("fb3ff199999999999a", .float(1.1)),
        ("c11a514b67b0", .tagged(1, .unsigned(1_363_896_240))),
        ("5f42010243030405ff", .bytes([1, 2, 3, 4, 5])), ("7f657374726561646d696e67ff", .text("streaming")),
        (
            "9f018202039f0405ffff",
            .array([.unsigned(1), .array([.unsigned(2), .unsigned(3)]), .array([.unsigned(4), .unsigned(5)])])
        ),
        (
            "bf61610161629f0203ffff",
            .map([CBORPair(.text("a"), .unsigned(1)), CBORPair(.text("b"), .array([.unsigned(2), .unsigned(3)]))])
        ),
    ])
    func decodesRFCExamples(_ hex: String, _ expected: CBORValue) throws {
        #expect(try CBORDecoder.decode(bytes(hex)) == expected)
    }

    @Test(arguments: ["00", "1818", "1903e8", "1b000000e8d4a51000", "3863", "4401020304", "62c3bc", "a201020304", "f5"])
    func encodesShortestForm(_ hex: String) throws {
        #expect(try CBORDecoder.decode(bytes(hex)).encoded == bytes(hex))
    }

    @Test(arguments: [
        "", "18", "1c", "5f4101", "5f61", "a1", "a20102", "9f01", "ff", "7f4101ff", "62c328", "5a7fffffff",
        "bf61", "1f", "f818", "0000",
    ])
    func refusesMalformedItems(_ hex: String) {
        #expect(throws: CBORError.self) { try CBORDecoder.decode(bytes(hex)) }
    }

    @Test func refusesHugeDeclaredLengthsWithoutAllocating() {
        #expect(throws: CBORError.self) { try CBORDecoder.decode([0x9B] + [UInt8](repeating: 0xFF, count: 8)) }
        #expect(throws: CBORError.self) { try CBORDecoder.decode([0xBA, 0x7F, 0xFF, 0xFF, 0xFF]) }
        #expect(throws: CBORError.self) { try CBORDecoder.decode([UInt8](repeating: 0x81, count: 40) + [0]) }
    }

    @Test func randomBytesNeverCrash() {
        var generator = SplitMix(seed: 11)
        let seed = StreamRequest(clientToken: "rdy", fileID: 0, blockSize: 4096, bitmap: [3], numberOfBlocks: 1)
            .cborEncoded
        for _ in 0..<50_000 {
            var data = seed
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                data[Int.random(in: 0..<data.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if let value = try? CBORDecoder.decode(data), case .map = value {
                _ = try? StreamRequest.decodeCBOR(data)
            }
        }
    }
}

func bytes(_ hex: String) -> [UInt8] {
    var result: [UInt8] = []
    var iterator = hex.makeIterator()
    while let high = iterator.next(), let low = iterator.next() {
        result.append(UInt8(String([high, low]), radix: 16)!)
    }
    return result
}
