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
