import Testing

@testable import OTAWire

@Suite struct StreamMessageTests {
    /// aws-ota-wire.md §5.1: gen A's request for a 2-block file, nothing received, n = 1.
    static let genARequest = bytes("a6616363726479616600616c19100061" + "6f0061624103616e01")

    @Test func encodesGenerationARequestByteForByte() {
        let request = StreamRequest(clientToken: "rdy", fileID: 0, blockSize: 4096, bitmap: [0x03], numberOfBlocks: 1)
        #expect(request.cborEncoded == Self.genARequest)
        #expect(request.cborEncoded.count == 25)
    }

    @Test func decodesGenerationARequest() throws {
        let request = try StreamRequest.decodeCBOR(Self.genARequest)
        #expect(
            request == StreamRequest(clientToken: "rdy", fileID: 0, blockSize: 4096, bitmap: [3], numberOfBlocks: 1))
    }

    @Test func decodesJSONRequestsWithHexBitmaps() throws {
        let genC = try StreamRequest.decodeJSON(Array(#"{"s": 1,"f": 0,"l": 4096,"o": 3,"n": 1}"#.utf8))
        #expect(genC == StreamRequest(streamVersion: 1, fileID: 0, blockSize: 4096, blockOffset: 3, numberOfBlocks: 1))
        let withBitmap = try StreamRequest.decodeJSON(Array(#"{"c":"t","f":1,"l":256,"b":"0x130080"}"#.utf8))
        #expect(withBitmap.bitmap == [0x13, 0x00, 0x80])
        #expect(withBitmap.clientToken == "t")
    }

    @Test func refusesBadRequestsWithTheRightCode() {
        func code(_ format: StreamPayloadFormat, _ payload: [UInt8]) -> StreamErrorCode? {
            do {
                _ = format == .cbor ? try StreamRequest.decodeCBOR(payload) : try StreamRequest.decodeJSON(payload)
                return nil
            } catch { return error.code }
        }
        func json(_ text: String) -> [UInt8] { Array(text.utf8) }
        #expect(code(.cbor, [0xA1, 0x61]) == .invalidCBOR)
        #expect(code(.cbor, [0x01]) == .invalidCBOR)
        #expect(code(.cbor, CBORValue.map([CBORPair(.text("l"), .unsigned(4096))]).encoded) == .invalidRequest)
        #expect(code(.cbor, CBORValue.map([CBORPair(.text("f"), .text("0"))]).encoded) == .invalidRequest)
        let longToken = String(repeating: "x", count: 65)
        #expect(
            code(.cbor, StreamRequest(clientToken: longToken, fileID: 0, blockSize: 4096).cborEncoded)
                == .invalidRequest)
        #expect(code(.json, json("{")) == .invalidJSON)
        #expect(code(.json, json(#"{"f":0,"l":-1}"#)) == .invalidRequest)
        #expect(code(.json, json(#"{"f":0,"l":256,"b":"0xZZ"}"#)) == .invalidRequest)
        #expect(code(.json, json(#"{"f":0,"l":256}"#)) == nil)
    }

    @Test func dataBlockIsMinimalAndDecodesTheWayTheAgentChecksIt() throws {
        let payload = (0..<4096).map { UInt8(truncatingIfNeeded: $0) }
        let block = StreamDataBlock(fileID: 0, blockIndex: 1023, payload: payload)
        let encoded = block.cborEncoded
        #expect(encoded.count - payload.count <= 26)
        #expect(StreamDataBlock.decodeCBOR(encoded) == block)
        let generic = try CBORDecoder.decode(encoded)
        #expect(generic["l"] == .unsigned(4096) && generic["i"] == .unsigned(1023) && generic["f"] == .unsigned(0))
        // An indefinite-length map (as AWS probably sends) decodes too.
        var indefinite = encoded
        indefinite[0] = 0xBF
        indefinite.append(0xFF)
        #expect(StreamDataBlock.decodeCBOR(indefinite) == block)
        // A block whose `l` disagrees with `p` is refused.
        var lying = encoded
        lying[lying.count - 4097] = 0x00
        #expect(StreamDataBlock.decodeCBOR(Array(lying.prefix(10))) == nil)
    }

    @Test func rejectionPayloadHasTheShortKeys() throws {
        let error = StreamRequestError(
            .blockSizeOutOfBounds, "block size 100 is outside 256...131072", clientToken: "rdy")
        let value = try JSONParser.parse(error.rejectionPayload)
        #expect(value["o"] == .string("BlockSizeOutOfBounds"))
        #expect(value["c"] == .string("rdy"))
    }

    @Test func bitmapFollowsTheAWSExample() {
        // Blocks {0, 1, 4, 23} needed, relative to the offset: bytes 13 00 80.
        var bitmap = BlockBitmap(blockCount: 24)
        for block in 0..<24 where ![0, 1, 4, 23].contains(block) { bitmap.markReceived(block) }
        #expect(bitmap.bytes == [0x13, 0x00, 0x80])
        #expect(bitmap.neededCount == 4)
        let duplicate = bitmap.markReceived(2)
        let fresh = bitmap.markReceived(23)
        #expect(!duplicate && fresh)
        #expect(!bitmap.isNeeded(24))
    }

    @Test func bitmapClearsPaddingAndRefusesBadStoredForms() {
        #expect(BlockBitmap(blockCount: 2).bytes == [0x03])
        #expect(BlockBitmap(blockCount: 9).bytes == [0xFF, 0x01])
        #expect(BlockBitmap(bytes: [0xFF, 0x03], blockCount: 9) == nil)
        #expect(BlockBitmap(bytes: [0xFF], blockCount: 9) == nil)
        #expect(BlockBitmap(bytes: [0x80, 0x01], blockCount: 9)?.neededCount == 2)
        #expect(BlockBitmap.blockCount(fileSize: 5000, blockSize: 4096) == 2)
    }

    @Test func base64MatchesRFC4648() {
        let vectors = [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(encoded) == Array(plain.utf8))
        }
        for bad in ["Zg", "Zg=", "Z===", "Zh==", "Zm9v\n", "Zm-v", "=Zm9"] { #expect(Base64.decode(bad) == nil) }
    }
}

/// The common-shape reader (StreamRequestCommonShape.swift) gives the general decoder's answer, request or error,
/// for every payload: well-formed requests in many encodings, near misses that must fall back, and random damage.
@Suite struct StreamRequestCommonShapeTests {
    static func sameAnswer(_ payload: [UInt8]) -> Bool {
        let general = Result { () throws(StreamRequestError) in try StreamRequest.decodeAnyShape(payload) }
        let answer = Result { () throws(StreamRequestError) in try StreamRequest.decodeCBOR(payload) }
        return general == answer
    }

    /// A CBOR head of `major` with `argument`, at the shortest length or one of the longer ones.
    static func head(_ major: UInt8, _ argument: UInt64, longForm: Int = 0) -> [UInt8] {
        let sizes: [(UInt8, Int)] = [(24, 1), (25, 2), (26, 4), (27, 8)]
        let minimum: Int =
            argument < 24 ? 0 : argument <= 0xFF ? 1 : argument <= 0xFFFF ? 2 : argument <= 0xFFFF_FFFF ? 3 : 4
        let form = max(minimum, min(longForm, 4))
        guard form > 0 else { return [major << 5 | UInt8(argument)] }
        let (info, size) = sizes[form - 1]
        return [major << 5 | info] + (0..<size).reversed().map { UInt8(truncatingIfNeeded: argument >> (8 * $0)) }
    }

    static func item(_ generator: inout SplitMix) -> [UInt8] {
        let long = Int.random(in: 0...6, using: &generator) == 0 ? Int.random(in: 1...4, using: &generator) : 0
        switch Int.random(in: 0..<10, using: &generator) {
        case 0..<4:
            return head(0, [0, 7, 300, 70_000, 5_000_000_000].randomElement(using: &generator)!, longForm: long)
        case 4:
            let text = Self.texts.randomElement(using: &generator)!
            if Bool.random(using: &generator) { return head(3, UInt64(text.count), longForm: long) + text }
            // Indefinite: the text in chunks, which may split a character, and now and then a chunk of bytes.
            let cut = Int.random(in: 0...text.count, using: &generator)
            let second: UInt8 = Int.random(in: 0..<8, using: &generator) == 0 ? 2 : 3
            return [0x7F] + head(3, UInt64(cut)) + text[..<cut] + head(second, UInt64(text.count - cut))
                + text[cut...] + [0xFF]
        case 5:
            let data = [UInt8](repeating: 0xA5, count: Int.random(in: 0...20, using: &generator))
            if Bool.random(using: &generator) { return head(2, UInt64(data.count), longForm: long) + data }
            return [0x5F] + head(2, UInt64(data.count)) + data + [0xFF]
        case 6: return [0x20]  // -1
        case 7: return [0x7F, 0x61, 0x61, 0xFF]  // an indefinite text string
        case 8: return [0x81, 0x01]  // an array
        default: return [0xF6]  // null
        }
    }

    /// Client tokens: empty, short, at and over the 64-byte limit, valid multi-byte UTF-8, and the invalid forms
    /// (a lone continuation, overlong, a surrogate, above U+10FFFF, truncated).
    static let texts: [[UInt8]] = [
        [], Array("rdy".utf8), Array(String(repeating: "t", count: 64).utf8),
        Array(String(repeating: "t", count: 65).utf8), Array("é€😀".utf8), [0xC3, 0x28], [0x80], [0xC0, 0x80],
        [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF0, 0x9F, 0x98],
    ]

    static func key(_ generator: inout SplitMix) -> [UInt8] {
        let keys: [[UInt8]] = [
            [0x61, 0x63], [0x61, 0x73], [0x61, 0x66], [0x61, 0x6C], [0x61, 0x6F], [0x61, 0x6E], [0x61, 0x62],
            [0x61, 0x78], [0x62, 0x66, 0x66], [0x01], [0x78, 0x01, 0x66], [0x7F, 0x61, 0x66, 0xFF],
        ]
        return Int.random(in: 0..<4, using: &generator) == 0
            ? keys.randomElement(using: &generator)! : keys[Int.random(in: 0..<7, using: &generator)]
    }

    @Test func everyPayloadGetsTheGeneralDecodersAnswer() {
        var generator = SplitMix(seed: 35)
        var common = 0
        for round in 0..<40_000 {
            // Mostly a few pairs; now and then 23 to 25, either side of what the common-shape reader takes.
            let count =
                Int.random(in: 0..<50, using: &generator) == 0
                ? Int.random(in: 23...25, using: &generator) : Int.random(in: 0...8, using: &generator)
            let long = Int.random(in: 0..<10, using: &generator) == 0 ? Int.random(in: 1...4, using: &generator) : 0
            var payload =
                Int.random(in: 0..<20, using: &generator) == 0 ? [0xBF] : Self.head(5, UInt64(count), longForm: long)
            for _ in 0..<count { payload += Self.key(&generator) + Self.item(&generator) }
            if payload[0] == 0xBF { payload.append(0xFF) }
            if Int.random(in: 0..<20, using: &generator) == 0 { payload.append(0x00) }
            if round % 3 == 0, !payload.isEmpty {
                for _ in 0..<Int.random(in: 1...2, using: &generator) {
                    payload[Int.random(in: 0..<payload.count, using: &generator)] = UInt8.random(
                        in: 0...255, using: &generator)
                }
            }
            if StreamRequest.decodeCommonShape(payload) != nil { common += 1 }
            #expect(Self.sameAnswer(payload), "payload \(payload)")
        }
        // The generator reaches both readers often (thousands of payloads each): the comparison is not of one path
        // with itself.
        #expect(common > 2_000 && common < 38_000, "\(common) of the payloads had the common shape")
    }

    @Test func whatAgentsSendIsReadWithoutTheTree() throws {
        let requests = [
            StreamRequest(clientToken: "rdy", fileID: 0, blockSize: 4096, blockOffset: 0, numberOfBlocks: 8),
            StreamRequest(clientToken: "rdy", fileID: 0, blockSize: 4096, blockOffset: 24, bitmap: [0xFF, 0x01]),
            StreamRequest(streamVersion: 3, fileID: 1, blockSize: 256, blockOffset: 1_000_000),
        ]
        for request in requests {
            #expect(StreamRequest.decodeCommonShape(request.cborEncoded) == .success(request))
            #expect(try StreamRequest.decodeCBOR(request.cborEncoded) == request)
        }
        // Near misses the general decoder must answer: a repeated key, bytes after the map, an unknown key.
        let repeated: [UInt8] = [0xA3, 0x61, 0x66, 0x00, 0x61, 0x6C, 0x01, 0x61, 0x66, 0x00]
        let trailing = requests[0].cborEncoded + [0x00]
        let unknown: [UInt8] = [0xA3, 0x61, 0x66, 0x00, 0x61, 0x6C, 0x01, 0x61, 0x7A, 0x00]
        for payload in [repeated, trailing, unknown] {
            #expect(StreamRequest.decodeCommonShape(payload) == nil)
            #expect(Self.sameAnswer(payload))
        }
    }
}
