import Foundation
import MQTT
import OTAService
import OTAWire
import TestSupport
import Testing

// Every malformed or forbidden device request gets the documented rejection (aws-ota-wire.md §3.4, §5.3) and
// leaves the execution exactly as it was.
@Suite(.serialized) struct DeviceBadInputTests {
    /// A service with update `u1` for thing `dev`, the execution moved to IN_PROGRESS (version 2).
    struct Prepared {
        let service: ServiceHarness
        let device: ScriptedDevice
        let job: Job
        let imageSize: Int
        let jobs = "$aws/things/dev/jobs/"
        var stream: String { "$aws/things/dev/streams/\(job.streamID)/" }

        func state() async throws -> JobExecution { try #require(try await service.execution(job.id, "dev")) }

        /// Publishes `payload` on `topic` and returns the JSON object of the rejection on `topic/rejected`.
        func rejection(_ topic: String, _ payload: [UInt8], on rejected: String? = nil) async throws -> JSONObject {
            try await device.publish(topic, payload)
            let text = try await device.takeText(rejected ?? topic + "/rejected")
            return try #require(try JSONParser.parse(text).objectValue)
        }

        func close() async {
            await device.close()
            await service.shutdown()
        }
    }

    static func prepare() async throws -> Prepared {
        let service = try await ServiceHarness()
        let device = try await service.device("dev")
        let (file, image) = try await service.uploadFirmware(version: "3.0.0", payloadSize: 6000)
        _ = try await service.createUpdate("u1", file: file, things: ["dev"])
        let job = try #require(try await service.server.store.read { try $0.job(id: "AFR_OTA-u1") })
        let prepared = Prepared(service: service, device: device, job: job, imageSize: image.count)
        try await device.publish(prepared.jobs + "AFR_OTA-u1/update", json: #"{"status":"IN_PROGRESS"}"#)
        _ = try await device.take(prepared.jobs + "AFR_OTA-u1/update/accepted")
        #expect(try await prepared.state().versionNumber == 2)
        return prepared
    }

    static func code(_ object: JSONObject, _ key: String = "code") -> String? { object[key]?.stringValue }

    @Test func badJSONIsInvalidJSON() async throws {
        let p = try await Self.prepare()
        let before = try await p.state()
        let answer = try await p.rejection(p.jobs + "AFR_OTA-u1/update", Array(#"{"status":"#.utf8))
        #expect(Self.code(answer) == "InvalidJson")
        #expect(try await p.state() == before)
        await p.close()
    }

    @Test func anUnknownJobIsResourceNotFound() async throws {
        let p = try await Self.prepare()
        let before = try await p.state()
        let answer = try await p.rejection(
            p.jobs + "AFR_OTA-nope/update", Array(#"{"status":"SUCCEEDED","clientToken":"t9"}"#.utf8))
        #expect(Self.code(answer) == "ResourceNotFound" && answer["clientToken"]?.stringValue == "t9")
        let described = try await p.rejection(p.jobs + "AFR_OTA-nope/get", Array(#"{}"#.utf8))
        #expect(Self.code(described) == "ResourceNotFound")
        #expect(try await p.state() == before)
        await p.close()
    }

    @Test func anIllegalTransitionIsRejectedWithTheExecutionState() async throws {
        let p = try await Self.prepare()
        try await p.device.publish(p.jobs + "AFR_OTA-u1/update", json: #"{"status":"SUCCEEDED"}"#)
        _ = try await p.device.take(p.jobs + "AFR_OTA-u1/update/accepted")
        let before = try await p.state()
        let answer = try await p.rejection(p.jobs + "AFR_OTA-u1/update", Array(#"{"status":"IN_PROGRESS"}"#.utf8))
        #expect(Self.code(answer) == "InvalidStateTransition")
        #expect(answer["executionState"]?.objectValue?["status"]?.stringValue == "SUCCEEDED")
        let queued = try await p.rejection(p.jobs + "AFR_OTA-u1/update", Array(#"{"status":"QUEUED"}"#.utf8))
        #expect(Self.code(queued) == "InvalidRequest", "QUEUED is not a status a device may set")
        #expect(try await p.state() == before)
        await p.close()
    }

    @Test func aWrongExpectedVersionIsVersionMismatch() async throws {
        let p = try await Self.prepare()
        let before = try await p.state()
        for expected in [#"7"#, #""7""#] {
            let answer = try await p.rejection(
                p.jobs + "AFR_OTA-u1/update", Array(#"{"status":"IN_PROGRESS","expectedVersion":\#(expected)}"#.utf8))
            #expect(Self.code(answer) == "VersionMismatch")
            #expect(answer["executionState"]?.objectValue?["versionNumber"] == .number("2"))
        }
        #expect(try await p.state() == before)
        // The right version, as a string the way the coreJobs library sends it, is accepted.
        try await p.device.publish(
            p.jobs + "AFR_OTA-u1/update", json: #"{"status":"IN_PROGRESS","expectedVersion":"2"}"#)
        _ = try await p.device.take(p.jobs + "AFR_OTA-u1/update/accepted")
        #expect(try await p.state().versionNumber == 3)
        await p.close()
    }

    @Test func oversizedStatusDetailsAreInvalidRequest() async throws {
        let p = try await Self.prepare()
        let before = try await p.state()
        let long = String(repeating: "x", count: 1025)
        let answer = try await p.rejection(
            p.jobs + "AFR_OTA-u1/update", Array(#"{"status":"IN_PROGRESS","statusDetails":{"k":"\#(long)"}}"#.utf8))
        #expect(Self.code(answer) == "InvalidRequest")
        let badKey = try await p.rejection(
            p.jobs + "AFR_OTA-u1/update", Array(#"{"status":"IN_PROGRESS","statusDetails":{"a b":"c"}}"#.utf8))
        #expect(Self.code(badKey) == "InvalidRequest")
        #expect(try await p.state() == before)
        await p.close()
    }

    @Test func anEmptyJobIDInTheUpdateTopicIsInvalidTopic() async throws {
        let p = try await Self.prepare()
        let before = try await p.state()
        let answer = try await p.rejection(p.jobs + "/update", Array(#"{"status":"FAILED"}"#.utf8))
        #expect(Self.code(answer) == "InvalidTopic")
        #expect(try await p.state() == before)
        await p.close()
    }

    @Test func badCBORIsInvalidCBOR() async throws {
        let p = try await Self.prepare()
        for bytes: [UInt8] in [[0xA6, 0x61], [0xFF], [0x5F, 0x41, 0x00]] {
            let answer = try await p.rejection(p.stream + "get/cbor", bytes, on: p.stream + "rejected/cbor")
            #expect(Self.code(answer, "o") == "InvalidCbor")
        }
        #expect(p.device.pending(p.stream + "data/cbor") == 0)
        await p.close()
    }

    @Test func aBlockPastTheEndIsOffsetOutOfBounds() async throws {
        let p = try await Self.prepare()
        let blocks = (p.imageSize + 4095) / 4096
        let answer = try await p.rejection(
            p.stream + "get/json", Array(#"{"c":"x","f":0,"l":4096,"o":\#(blocks),"n":1}"#.utf8),
            on: p.stream + "rejected/json")
        #expect(Self.code(answer, "o") == "OffsetOutOfBounds" && answer["c"]?.stringValue == "x")
        await p.close()
    }

    @Test func aBlockSizeOutOfRangeIsBlockSizeOutOfBounds() async throws {
        let p = try await Self.prepare()
        for size in [255, 131_073] {
            let answer = try await p.rejection(
                p.stream + "get/json", Array(#"{"f":0,"l":\#(size),"o":0,"n":1}"#.utf8), on: p.stream + "rejected/json")
            #expect(Self.code(answer, "o") == "BlockSizeOutOfBounds")
        }
        await p.close()
    }

    /// Reading a stream is trusted for a while after the store said yes (blocks cost no transaction), but not
    /// past the end of the job: a cancel ends the device's right at once.
    @Test func aCancelledJobsStreamIsRefusedAtOnce() async throws {
        let p = try await Self.prepare()
        let request = #"{"f":0,"l":4096,"o":0,"n":1}"#
        try await p.device.publish(p.stream + "get/json", json: request)
        _ = try await p.device.takeText(p.stream + "data/json")
        try await p.service.server.engine.cancel(jobID: p.job.id, force: true)
        let answer = try await p.rejection(p.stream + "get/json", Array(request.utf8), on: p.stream + "rejected/json")
        #expect(Self.code(answer, "o") == "Unauthorized")
        #expect(p.device.pending(p.stream + "data/json") == 0)
        await p.close()
    }

    /// Only the stream of the job the device works on (its next execution) is readable: a job queued behind it
    /// is not, so cancelling that one needs no grant to end.
    @Test func aQueuedJobsStreamIsNotReadableBeforeItsTurn() async throws {
        let p = try await Self.prepare()
        let (file, _) = try await p.service.uploadFirmware(version: "3.1.0", payloadSize: 5000)
        _ = try await p.service.createUpdate("u2", file: file, things: ["dev"])
        let queued = try #require(try await p.service.server.store.read { try $0.job(id: "AFR_OTA-u2") })
        let stream = "$aws/things/dev/streams/\(queued.streamID)/"
        let answer = try await p.rejection(
            stream + "get/json", Array(#"{"f":0,"l":4096,"o":0,"n":1}"#.utf8), on: stream + "rejected/json")
        #expect(Self.code(answer, "o") == "Unauthorized")
        await p.close()
    }

    @Test func anotherThingsStreamIsUnauthorized() async throws {
        let p = try await Self.prepare()
        let outsider = try await p.service.device("outsider")
        let stream = "$aws/things/outsider/streams/\(p.job.streamID)/"
        try await outsider.publish(stream + "get/json", json: #"{"f":0,"l":4096,"o":0,"n":1}"#)
        let answer = try JSONParser.parse(try await outsider.takeText(stream + "rejected/json")).objectValue
        #expect(answer.flatMap { Self.code($0, "o") } == "Unauthorized")
        #expect(outsider.pending(stream + "data/json") == 0)
        // Nor can it read or change the other thing's execution.
        try await outsider.publish("$aws/things/outsider/jobs/AFR_OTA-u1/update", json: #"{"status":"FAILED"}"#)
        let update = try await outsider.takeText("$aws/things/outsider/jobs/AFR_OTA-u1/update/rejected")
        #expect(update.contains(#""code":"ResourceNotFound""#))
        #expect(try await p.state().status == .inProgress)
        await outsider.close()
        await p.close()
    }
}
