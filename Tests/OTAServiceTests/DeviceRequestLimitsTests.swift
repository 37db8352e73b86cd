import Foundation
import MQTT
import OTAService
import OTAWire
import Testing

// Device requests are bounded before they are parsed (size, members per object, depth) and parsed in
// O(n log n): a request with 20,000 keys used to cost seconds of quadratic duplicate checks and was then
// answered. Over real sockets: each gets its documented rejection, leaves the execution as it was, and the
// device's next ordinary request is answered.
@Suite(.serialized) struct DeviceRequestLimitsTests {
    static func members(_ count: Int) -> [UInt8] {
        Array(("{" + (0..<count).map { #""k\#($0)":0"# }.joined(separator: ",") + "}").utf8)
    }

    /// The device's pending jobs are still answered after a rejected request.
    static func stillAnswers(_ p: DeviceBadInputTests.Prepared) async throws {
        try await p.device.publish(p.jobs + "get", json: #"{"clientToken":"after"}"#)
        let answer = try JSONParser.parse(try await p.device.takeText(p.jobs + "get/accepted"))
        #expect(answer["clientToken"] == .string("after"))
        #expect(answer["inProgressJobs"]?.arrayValue?.count == 1)
    }

    @Test func aJobsGetWithTwentyThousandKeysIsInvalidRequest() async throws {
        let p = try await DeviceBadInputTests.prepare()
        let before = try await p.state()
        let answer = try await p.rejection(p.jobs + "get", Self.members(20_000))
        #expect(DeviceBadInputTests.code(answer) == "InvalidRequest")
        #expect(answer["message"]?.stringValue?.contains("at most 32768") == true)
        try await Self.stillAnswers(p)
        #expect(try await p.state() == before)
        await p.close()
    }

    @Test func tooManyKeysTooDeepAndDuplicateKeysAreRejected() async throws {
        let p = try await DeviceBadInputTests.prepare()
        let before = try await p.state()
        let wide = try await p.rejection(p.jobs + "get", Self.members(65))
        #expect(DeviceBadInputTests.code(wide) == "InvalidRequest")
        let deep = Array((String(repeating: #"{"a":"#, count: 9) + "1" + String(repeating: "}", count: 9)).utf8)
        #expect(DeviceBadInputTests.code(try await p.rejection(p.jobs + "get", deep)) == "InvalidRequest")
        let duplicate = Array(#"{"status":"FAILED","clientToken":"d","status":"SUCCEEDED"}"#.utf8)
        let answer = try await p.rejection(p.jobs + "AFR_OTA-u1/update", duplicate)
        #expect(DeviceBadInputTests.code(answer) == "InvalidJson")
        try await Self.stillAnswers(p)
        #expect(try await p.state() == before)
        await p.close()
    }

    @Test func streamRequestsWithDuplicateKeysOrOverTheLimitsAreRejected() async throws {
        let p = try await DeviceBadInputTests.prepare()
        let duplicate = CBORValue.map([
            CBORPair(.text("f"), .unsigned(0)), CBORPair(.text("l"), .unsigned(4096)),
            CBORPair(.text("o"), .unsigned(0)), CBORPair(.text("l"), .unsigned(256)),
        ]).encoded
        let cbor = try await p.rejection(p.stream + "get/cbor", duplicate, on: p.stream + "rejected/cbor")
        #expect(DeviceBadInputTests.code(cbor, "o") == "InvalidCbor")
        let huge = StreamRequest(fileID: 0, blockSize: 256, bitmap: [UInt8](repeating: 0xFF, count: 40_000))
        let large = try await p.rejection(p.stream + "get/cbor", huge.cborEncoded, on: p.stream + "rejected/cbor")
        #expect(DeviceBadInputTests.code(large, "o") == "InvalidRequest")
        let wide = try await p.rejection(p.stream + "get/json", Self.members(65), on: p.stream + "rejected/json")
        #expect(DeviceBadInputTests.code(wide, "o") == "InvalidRequest")
        let describe = try await p.rejection(
            p.stream + "describe/json", Self.members(20_000), on: p.stream + "rejected/json")
        #expect(DeviceBadInputTests.code(describe, "o") == "InvalidRequest")
        #expect(p.device.pending(p.stream + "data/cbor") == 0 && p.device.pending(p.stream + "data/json") == 0)
        // A well-formed request is still served.
        try await p.device.publish(
            p.stream + "get/cbor", StreamRequest(fileID: 0, blockSize: 4096, numberOfBlocks: 1).cborEncoded)
        _ = try await p.device.take(p.stream + "data/cbor")
        await p.close()
    }

    @Test func startNextRefusesAStringStatusDetailsAndABadStepTimeout() async throws {
        let p = try await DeviceBadInputTests.prepare()
        let before = try await p.state()
        for body in [
            #"{"statusDetails":"ready","clientToken":"s1"}"#, #"{"stepTimeoutInMinutes":-1}"#,
            #"{"stepTimeoutInMinutes":2.5}"#, #"{"stepTimeoutInMinutes":"soon"}"#,
            #"{"stepTimeoutInMinutes":10081}"#,
        ] {
            let answer = try await p.rejection(p.jobs + "start-next", Array(body.utf8))
            #expect(DeviceBadInputTests.code(answer) == "InvalidRequest", "\(body)")
        }
        #expect(try await p.state() == before)
        // A valid one is accepted and moves nothing backwards.
        try await p.device.publish(p.jobs + "start-next", json: #"{"stepTimeoutInMinutes":30}"#)
        _ = try await p.device.take(p.jobs + "start-next/accepted")
        await p.close()
    }

    @Test func anUpdateWithAHugeStepTimeoutIsInvalidRequestNotACrash() async throws {
        // Int64.max minutes reached `minutes * 60` in the job engine and trapped, taking the service down.
        let p = try await DeviceBadInputTests.prepare()
        let before = try await p.state()
        let answer = try await p.rejection(
            p.jobs + "AFR_OTA-u1/update",
            Array(#"{"status":"IN_PROGRESS","stepTimeoutInMinutes":9223372036854775807}"#.utf8))
        #expect(DeviceBadInputTests.code(answer) == "InvalidRequest")
        try await Self.stillAnswers(p)
        #expect(try await p.state() == before)
        await p.close()
    }
}
