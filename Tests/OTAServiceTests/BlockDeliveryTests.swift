import Foundation
import MQTT
import OTAWire
import Testing

@testable import OTAService

// Stream requests are answered on the connection's event loop when the thing's grant and the file's bytes are held,
// and through the stream inbox's task otherwise (the first request of a download reads the store). Over real
// sockets: requests sent back to back, some answered one way and some the other, are answered in the order they
// were sent, each block exactly the file's bytes, in CBOR and in JSON alike.
@Suite struct BlockDeliveryTests {
    @Test func requestsSentBackToBackAreAnsweredInOrderWithTheFilesBytes() async throws {
        let p = try await DeviceBadInputTests.prepare()
        let blockSize = 256
        let blocks = (p.imageSize + blockSize - 1) / blockSize
        // The first request needs the store (no grant yet); those behind it queue after it, the later ones find
        // the grant held and nothing waiting.
        for index in 0..<blocks {
            let request = StreamRequest(
                fileID: 0, blockSize: UInt64(blockSize), blockOffset: UInt64(index), numberOfBlocks: 1)
            try await p.device.publish(p.stream + "get/cbor", request.cborEncoded, qos: .atMostOnce)
        }
        let answers = try await p.device.take(p.stream + "data/cbor", count: blocks)
        let decoded = answers.map { StreamDataBlock.decodeCBOR($0.payload) }
        #expect(decoded.map { $0?.blockIndex } == (0..<blocks).map { UInt64($0) })
        let file = decoded.compactMap { $0?.payload }.joined()
        #expect(file.count == p.imageSize)

        // The same blocks as JSON messages, eight per request, answered at once now that everything is held.
        try await p.device.publish(
            p.stream + "get/json",
            json: #"{"f":0,"l":\#(blockSize),"o":0,"n":\#(min(blocks, 8)),"c":"j"}"#, qos: .atMostOnce)
        let json = try await p.device.take(p.stream + "data/json", count: min(blocks, 8))
        for (index, message) in json.enumerated() {
            let object = try #require(try JSONParser.parse(message.payload).objectValue)
            #expect(object["i"]?.unsignedValue(maximum: .max) == UInt64(index))
            let bytes = try #require(object["p"]?.stringValue.flatMap { Base64.decode(Array($0.utf8)) })
            #expect(bytes == decoded[index]?.payload)
        }
        await p.close()
    }

    /// Once the grant and the file are held, requests are judged on the event loop: each bad one gets the same
    /// typed rejection the queued path gives, and the next good one is still served.
    @Test func badRequestsAnsweredAtOnceAreRejectedAsWhenQueued() async throws {
        let p = try await DeviceBadInputTests.prepare()
        let good = StreamRequest(fileID: 0, blockSize: 4096, numberOfBlocks: 1)
        try await p.device.publish(p.stream + "get/cbor", good.cborEncoded)
        _ = try await p.device.take(p.stream + "data/cbor")
        let rejected = p.stream + "rejected/cbor"
        let cases: [(request: [UInt8], code: String)] = [
            (StreamRequest(streamVersion: 99, fileID: 0, blockSize: 4096).cborEncoded, "VersionMismatch"),
            (StreamRequest(fileID: 7, blockSize: 4096).cborEncoded, "ResourceNotFound"),
            (StreamRequest(fileID: 0, blockSize: 4096, blockOffset: 1_000).cborEncoded, "OffsetOutOfBounds"),
            ([0xA2, 0x61, 0x66], "InvalidCbor"),
        ]
        for (request, code) in cases {
            let answer = try await p.rejection(p.stream + "get/cbor", request, on: rejected)
            #expect(DeviceBadInputTests.code(answer, "o") == code)
        }
        #expect(p.device.pending(p.stream + "data/cbor") == 0)
        try await p.device.publish(p.stream + "get/cbor", good.cborEncoded)
        #expect(StreamDataBlock.decodeCBOR(try await p.device.take(p.stream + "data/cbor")[0].payload) != nil)
        await p.close()
    }

    /// The console's per-device progress: a block served twice counts once, another stream or size starts over.
    @Test func progressCountsEachBlockOnceAndStartsOverForAnotherStream() {
        let progress = DeliveryProgress()
        #expect(progress.percent(thing: "a", stream: "s1") == nil)
        progress.served(thing: "a", stream: "s1", blocks: [0, 1, 2], of: 10)
        progress.served(thing: "a", stream: "s1", blocks: [2, 3, 99], of: 10)
        #expect(progress.percent(thing: "a", stream: "s1") == 40)
        #expect(progress.percent(thing: "a", stream: "s2") == nil)
        progress.served(thing: "a", stream: "s2", blocks: [0], of: 4)
        #expect(progress.percent(thing: "a", stream: "s2") == 25)
        #expect(progress.percent(thing: "a", stream: "s1") == nil)
        progress.served(thing: "a", stream: "s2", blocks: [0], of: 2)
        #expect(progress.percent(thing: "a", stream: "s2") == 50, "another size starts over")
        progress.forget(thing: "a")
        #expect(progress.percent(thing: "a", stream: "s2") == nil)
    }
}
