import Foundation
import MQTT
import OTAService
import OTAWire
import TestSupport
import Testing

// The exchange of aws-ota-wire.md §12, played by a scripted device over real mutual TLS: the device sends the
// unmodified FreeRTOS agent's exact bytes, and every answer the spec fixes is compared byte for byte.
@Suite(.serialized) struct WireReplayTests {
    @Test func theSection12ExchangeGetsTheAnswersAnUnmodifiedAgentExpects() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let t0 = service.clock.now
        var device = try await service.device("my-thing")
        let jobs = "$aws/things/my-thing/jobs/"

        // No job yet: the empty answer is exactly clientToken + timestamp.
        try await device.subscribe(jobs + "notify-next", qos: .atLeastOnce)
        try await device.publish(jobs + "$next/get", json: #"{"clientToken":":my-thing"}"#)
        #expect(
            try await device.takeText(jobs + "$next/get/accepted") == #"{"clientToken":":my-thing","timestamp":\#(t0)}"#
        )

        // The update: notify-next carries the QUEUED execution and the afr_ota document as an object.
        let (file, image) = try await service.uploadFirmware(version: "1.2.4", payloadSize: 4600)
        service.clock.advance(by: 10)
        let t1 = service.clock.now
        let update = try await service.createUpdate("job1", file: file, things: ["my-thing"])
        #expect(update.jobID == "AFR_OTA-job1")
        let job = try #require(try await service.server.store.read { try $0.job(id: "AFR_OTA-job1") })
        let execution =
            #"{"jobId":"AFR_OTA-job1","thingName":"my-thing","status":"QUEUED","queuedAt":\#(t1),"#
            + #""lastUpdatedAt":\#(t1),"versionNumber":1,"executionNumber":1,"jobDocument":\#(job.document)}"#
        #expect(try await device.takeText(jobs + "notify-next") == #"{"timestamp":\#(t1),"execution":\#(execution)}"#)
        #expect(job.document.hasPrefix(#"{"afr_ota":{"protocols":["MQTT"],"streamname":"\#(job.streamID)","files":[{"#))
        #expect(job.document.contains(#""filesize":\#(image.count),"fileid":0,"certfile":"Code Verify Key","#))

        // The stream, gen-A request bytes: bitmap 0x03, n = 1 → one block of 4096 bytes.
        let streamTopic = "$aws/things/my-thing/streams/\(job.streamID)/"
        try await device.subscribe(streamTopic + "data/cbor", qos: .atMostOnce)
        let request: (UInt8) -> [UInt8] = { bitmap in
            [
                0xA6, 0x61, 0x63, 0x63, 0x72, 0x64, 0x79, 0x61, 0x66, 0x00, 0x61, 0x6C, 0x19, 0x10, 0x00, 0x61, 0x6F,
                0x00,
            ]
                + [0x61, 0x62, 0x41, bitmap, 0x61, 0x6E, 0x01]
        }
        try await device.publish(streamTopic + "get/cbor", request(0x03), qos: .atMostOnce)
        let first = try await device.take(streamTopic + "data/cbor")[0]
        #expect(first.payload == Self.dataBlock(index: 0, payload: Array(image[0..<4096])))

        // Progress at QoS 0 is accepted and never triggers notify-next.
        service.clock.advance(by: 1)
        try await device.publish(
            jobs + "AFR_OTA-job1/update", json: #"{"status":"IN_PROGRESS","statusDetails":{"receive":"1/2"}}"#,
            qos: .atMostOnce)
        #expect(try await device.takeText(jobs + "AFR_OTA-job1/update/accepted") == #"{"timestamp":\#(t1 + 1)}"#)

        try await device.publish(streamTopic + "get/cbor", request(0x02), qos: .atMostOnce)
        let last = try await device.take(streamTopic + "data/cbor")[0]
        #expect(last.payload == Self.dataBlock(index: 1, payload: Array(image[4096...])))

        try await device.publish(
            jobs + "AFR_OTA-job1/update",
            json: #"{"status":"IN_PROGRESS","statusDetails":{"self_test":"ready","updatedBy":"0x01020003"}}"#)
        _ = try await device.take(jobs + "AFR_OTA-job1/update/accepted")

        // Reboot: `$next/get` returns the IN_PROGRESS execution with the stored details.
        device = try await service.reconnect(device)
        try await device.subscribe(jobs + "notify-next", qos: .atLeastOnce)
        try await device.publish(jobs + "$next/get", json: #"{"clientToken":":my-thing"}"#)
        let resumed = try await device.takeText(jobs + "$next/get/accepted")
        #expect(
            resumed.hasPrefix(
                #"{"clientToken":":my-thing","timestamp":\#(t1 + 1),"execution":{"jobId":"AFR_OTA-job1","#
                    + #""thingName":"my-thing","status":"IN_PROGRESS","#
                    + #""statusDetails":{"self_test":"ready","updatedBy":"0x01020003"},"queuedAt":\#(t1),"#
                    + #""startedAt":\#(t1 + 1),"lastUpdatedAt":\#(t1 + 1),"versionNumber":3,"executionNumber":1,"#))

        try await device.publish(
            jobs + "AFR_OTA-job1/update",
            json: #"{"status":"IN_PROGRESS","statusDetails":{"self_test":"active","updatedBy":"0x01020004"}}"#)
        _ = try await device.take(jobs + "AFR_OTA-job1/update/accepted")
        #expect(device.pending(jobs + "notify-next") == 0, "no notify-next for progress of the current job")

        service.clock.advance(by: 5)
        try await device.publish(
            jobs + "AFR_OTA-job1/update",
            json: #"{"status":"SUCCEEDED","statusDetails":{"reason":"accepted  v1.2.4","updatedBy":"  v1.2.3"}}"#)
        _ = try await device.take(jobs + "AFR_OTA-job1/update/accepted")
        // Nothing pending any more: a timestamp-only notify-next.
        #expect(try await device.takeText(jobs + "notify-next") == #"{"timestamp":\#(t1 + 6)}"#)

        let final = try #require(try await service.execution("AFR_OTA-job1", "my-thing"))
        #expect(final.status == .succeeded && final.versionNumber == 5)
        await device.close()
    }

    @Test func theJSONStreamVariantAndDescribeStreamAnswer() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let device = try await service.device("json-thing")
        let (file, image) = try await service.uploadFirmware(version: "2.0.0", payloadSize: 9000)
        _ = try await service.createUpdate("j2", file: file, things: ["json-thing"])
        let job = try #require(try await service.server.store.read { try $0.job(id: "AFR_OTA-j2") })
        let streamTopic = "$aws/things/json-thing/streams/\(job.streamID)/"

        try await device.subscribe(streamTopic + "data/json", qos: .atMostOnce)
        try await device.publish(
            streamTopic + "get/json", json: #"{"c":"tok","f":0,"l":1024,"o":2,"n":2}"#, qos: .atMostOnce)
        let blocks = try await device.take(streamTopic + "data/json", count: 2)
        for (offset, message) in blocks.enumerated() {
            let index = 2 + offset
            let slice = Array(image[index * 1024..<(index + 1) * 1024])
            let text = String(decoding: message.payload, as: UTF8.self)
            #expect(text == #"{"f":0,"l":1024,"i":\#(index),"p":"\#(Data(slice).base64EncodedString())"}"#)
        }

        try await device.subscribe(streamTopic + "description/json", qos: .atMostOnce)
        try await device.publish(streamTopic + "describe/json", json: #"{"c":"d1"}"#, qos: .atMostOnce)
        let description = try await device.takeText(streamTopic + "description/json")
        #expect(description.contains(#""c":"d1""#) && description.contains(#""f":0"#))
        #expect(description.contains(#""z":\#(image.count)"#))
        await device.close()
    }

    @Test func generationCStartNextAndPendingListWork() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let device = try await service.device("gen-c")
        let jobs = "$aws/things/gen-c/jobs/"
        let (file, _) = try await service.uploadFirmware(version: "4.0.0", payloadSize: 3000)
        _ = try await service.createUpdate("first", file: file, things: ["gen-c"])
        service.clock.advance(by: 1)
        _ = try await service.createUpdate("second", file: file, things: ["gen-c"])

        try await device.publish(jobs + "get", json: #"{"clientToken":"p"}"#)
        let pending = try JSONParser.parse(try await device.take(jobs + "get/accepted")[0].payload)
        let queued = pending["queuedJobs"]?.arrayValue?.compactMap { $0["jobId"]?.stringValue }
        #expect(queued == ["AFR_OTA-first", "AFR_OTA-second"], "queue order")
        #expect(pending["inProgressJobs"]?.arrayValue?.isEmpty == true)

        // start-next moves the first QUEUED execution to IN_PROGRESS with the given details.
        try await device.publish(jobs + "start-next", json: #"{"clientToken":"test","statusDetails":{"k":"v"}}"#)
        let started = try JSONParser.parse(try await device.take(jobs + "start-next/accepted")[0].payload)
        #expect(started["clientToken"]?.stringValue == "test")
        #expect(started["execution"]?["jobId"]?.stringValue == "AFR_OTA-first")
        #expect(started["execution"]?["status"]?.stringValue == "IN_PROGRESS")
        #expect(started["execution"]?["statusDetails"]?["k"]?.stringValue == "v")
        #expect(started["execution"]?["jobDocument"]?["afr_ota"] != nil)

        // After the reboot the same job comes back; a bare SUCCEEDED at QoS 0 completes it.
        try await device.publish(jobs + "start-next", json: #"{"clientToken":"test"}"#)
        let again = try JSONParser.parse(try await device.take(jobs + "start-next/accepted")[0].payload)
        #expect(again["execution"]?["jobId"]?.stringValue == "AFR_OTA-first")
        #expect(again["execution"]?["versionNumber"] == .number("2"), "an IN_PROGRESS execution is not moved again")
        try await device.publish(jobs + "AFR_OTA-first/update", json: #"{"status":"SUCCEEDED"}"#, qos: .atMostOnce)
        _ = try await device.take(jobs + "AFR_OTA-first/update/accepted")
        #expect(try await service.execution("AFR_OTA-first", "gen-c")?.status == .succeeded)

        // Describe a named job with an explicit execution number; a wrong number is not found.
        try await device.publish(
            jobs + "AFR_OTA-second/get", json: #"{"executionNumber":1,"includeJobDocument":false}"#)
        let described = try JSONParser.parse(try await device.take(jobs + "AFR_OTA-second/get/accepted")[0].payload)
        #expect(described["execution"]?["status"]?.stringValue == "QUEUED")
        #expect(described["execution"]?["jobDocument"] == nil)
        try await device.publish(jobs + "AFR_OTA-second/get", json: #"{"executionNumber":2}"#)
        #expect(try await device.takeText(jobs + "AFR_OTA-second/get/rejected").contains("ResourceNotFound"))
        await device.close()
    }

    /// A data block as SwiftOTA encodes it: a definite map {f, l, i, p}, shortest integer heads.
    static func dataBlock(index: Int, payload: [UInt8]) -> [UInt8] {
        func head(_ major: UInt8, _ value: Int) -> [UInt8] {
            switch value {
            case 0..<24: [major << 5 | UInt8(value)]
            case 24..<256: [major << 5 | 24, UInt8(value)]
            default: [major << 5 | 25, UInt8(value >> 8), UInt8(value & 0xFF)]
            }
        }
        return [0xA4, 0x61, 0x66, 0x00, 0x61, 0x6C] + head(0, payload.count) + [0x61, 0x69] + head(0, index)
            + [0x61, 0x70] + head(2, payload.count) + payload
    }
}
