import Foundation
import MQTT
import OTAService
import OTAWire
import TestSupport
import Testing

// QoS 0 progress reports are held and recorded together (ProgressLedger.swift), through the real gateway: they are
// answered once recorded, a device's later requests never overtake them, and the checked path still decides the
// ones that are not plain progress on an execution in progress.
@Suite struct HeldProgressTests {
    static let progress = #"{"status":"IN_PROGRESS","statusDetails":{"receive":"25/256"},"clientToken":"p1"}"#

    @Test func aHeldReportIsRecordedAndAnsweredAndALaterReportComesAfterIt() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let device = try await service.device("held")
        let (file, _) = try await service.uploadFirmware(version: "1.4.0", payloadSize: 1000)
        _ = try await service.createUpdate("held", file: file, things: ["held"])
        let topic = "$aws/things/held/jobs/AFR_OTA-held/update"
        try await device.publish(topic, json: #"{"status":"IN_PROGRESS"}"#)
        _ = try await device.take(topic + "/accepted")
        let started = try #require(try await service.execution("AFR_OTA-held", "held"))

        // Held, then answered once recorded (within the ledger's second).
        try await device.publish(topic, json: Self.progress, qos: .atMostOnce)
        let answer = try await device.takeText(topic + "/accepted")
        #expect(answer.contains(#""clientToken":"p1""#), "\(answer)")
        var recorded = try #require(try await service.execution("AFR_OTA-held", "held"))
        #expect(
            recorded.statusDetails == #"{"receive":"25/256"}"# && recorded.versionNumber == started.versionNumber + 1)

        // A QoS 0 report right before a QoS 1 one: the held one is recorded first, so the later one's details stand.
        try await device.publish(
            topic, json: #"{"status":"IN_PROGRESS","statusDetails":{"receive":"50/256"}}"#, qos: .atMostOnce)
        try await device.publish(topic, json: #"{"status":"IN_PROGRESS","statusDetails":{"self_test":"ready"}}"#)
        _ = try await device.take(topic + "/accepted", count: 2)
        recorded = try #require(try await service.execution("AFR_OTA-held", "held"))
        #expect(recorded.statusDetails == #"{"self_test":"ready"}"#)
        #expect(recorded.versionNumber == started.versionNumber + 3, "each report counted once")

        // The other way round: a QoS 0 report right after a QoS 1 one waits for it, and stands after it.
        try await device.publish(topic, json: #"{"status":"IN_PROGRESS","statusDetails":{"step":"a"}}"#)
        try await device.publish(
            topic, json: #"{"status":"IN_PROGRESS","statusDetails":{"receive":"99/256"}}"#, qos: .atMostOnce)
        _ = try await device.take(topic + "/accepted", count: 2)
        recorded = try #require(try await service.execution("AFR_OTA-held", "held"))
        #expect(recorded.statusDetails == #"{"receive":"99/256"}"#)
        #expect(service.server.store.reportCommits.reports >= 6)
    }

    @Test func aHeldReportOnAQueuedExecutionStartsItAndOneWithoutAJobIsRefused() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let device = try await service.device("fresh")
        let topic = "$aws/things/fresh/jobs/AFR_OTA-fresh/update"
        try await device.publish(topic, json: Self.progress, qos: .atMostOnce)
        let refused = try await device.takeText(topic + "/rejected")
        #expect(
            refused.contains(#""code":"ResourceNotFound""#) && refused.contains(#""clientToken":"p1""#), "\(refused)")

        let (file, _) = try await service.uploadFirmware(version: "1.4.1", payloadSize: 1000)
        _ = try await service.createUpdate("fresh", file: file, things: ["fresh"])
        #expect(try await service.execution("AFR_OTA-fresh", "fresh")?.status == .queued)
        try await device.publish(topic, json: Self.progress, qos: .atMostOnce)
        _ = try await device.take(topic + "/accepted")
        let started = try #require(try await service.execution("AFR_OTA-fresh", "fresh"))
        #expect(started.status == .inProgress && started.statusDetails == #"{"receive":"25/256"}"#)
    }

    @Test func reportsAskingForTheirStateAreNotHeld() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let device = try await service.device("asks")
        let (file, _) = try await service.uploadFirmware(version: "1.4.2", payloadSize: 1000)
        _ = try await service.createUpdate("asks", file: file, things: ["asks"])
        let topic = "$aws/things/asks/jobs/AFR_OTA-asks/update"
        try await device.publish(
            topic, json: #"{"status":"IN_PROGRESS","includeJobExecutionState":true}"#, qos: .atMostOnce)
        let answer = try await device.takeText(topic + "/accepted")
        #expect(answer.contains(#""executionState":{"status":"IN_PROGRESS""#), "\(answer)")
    }
}
