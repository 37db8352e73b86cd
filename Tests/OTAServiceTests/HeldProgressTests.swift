import Foundation
import MQTT
import OTAWire
import Synchronization
import TestSupport
import Testing

@testable import OTAService

// QoS 0 progress reports are held and recorded together (ProgressLedger.swift), through the real gateway: they are
// answered once recorded, a device's later requests never overtake them, and the checked path still decides the
// ones that are not plain progress on an execution in progress.
@Suite struct HeldProgressTests {
    static let progress = #"{"status":"IN_PROGRESS","statusDetails":{"receive":"25/256"},"clientToken":"p1"}"#

    /// Device `thing` with an update AFR_OTA-`thing` queued for it; with `start`, its execution moved to IN_PROGRESS
    /// by a QoS 1 report (so that the engine knows it in progress). Returns the device and its update topic.
    static func device(
        _ thing: String, on service: ServiceHarness, start: Bool = true
    ) async throws -> (ScriptedDevice, String) {
        let device = try await service.device(thing)
        let (file, _) = try await service.uploadFirmware(version: "1.4.0", payloadSize: 1000)
        _ = try await service.createUpdate(thing, file: file, things: [thing])
        let topic = "$aws/things/\(thing)/jobs/AFR_OTA-\(thing)/update"
        if start {
            try await device.publish(topic, json: #"{"status":"IN_PROGRESS"}"#)
            _ = try await device.take(topic + "/accepted")
        }
        return (device, topic)
    }

    @Test func aHeldReportIsRecordedAndAnsweredAndALaterReportComesAfterIt() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let (device, topic) = try await Self.device("held", on: service)
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
        // Six reports and the device's first last-seen time, each recorded once.
        #expect(service.server.store.reportCommits.reports == 7)
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

    /// Malformed QoS 0 reports on an execution in progress (where a good one would be held on the event loop) are
    /// refused with the reason, as at QoS 1, and change nothing.
    @Test func malformedQoS0ReportsAreRefusedAndChangeNothing() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let (device, topic) = try await Self.device("bad", on: service)
        let before = try await service.execution("AFR_OTA-bad", "bad")
        for (body, code) in [
            (#"{"status":"IN_PROGRESS","statusDetails":"#, "InvalidJson"),
            (#"{"status":"RUNNING"}"#, "InvalidRequest"),
            (#"{"status":"IN_PROGRESS","statusDetails":{"receive":7}}"#, "InvalidRequest"),
        ] {
            try await device.publish(topic, json: body, qos: .atMostOnce)
            let refused = try await device.takeText(topic + "/rejected")
            #expect(refused.contains(#""code":"\#(code)""#), "\(body): \(refused)")
        }
        #expect(try await service.execution("AFR_OTA-bad", "bad") == before)
    }

    @Test func reportsAskingForTheirStateAreNotHeld() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let (device, topic) = try await Self.device("asks", on: service, start: false)
        try await device.publish(
            topic, json: #"{"status":"IN_PROGRESS","includeJobExecutionState":true}"#, qos: .atMostOnce)
        let answer = try await device.takeText(topic + "/accepted")
        #expect(answer.contains(#""executionState":{"status":"IN_PROGRESS""#), "\(answer)")
    }
}

// The engine's side on its own (SQLite, a clock the test sets): what a held report that the store did not record is
// answered with.
@Suite struct HeldProgressEngineTests {
    struct World {
        let directory: TemporaryDirectory
        let store: SQLiteStore
        let engine: JobEngine

        func execution() async throws -> JobExecution? {
            try await store.read { try $0.execution(jobID: "J", thing: "t") }
        }
    }

    /// Job J and thing t with a QUEUED execution, changed by `change` when given; the engine's clock at `time`.
    static func world(at time: Int64, change: (@Sendable (inout JobExecution) -> Void)? = nil) async throws -> World {
        let directory = try TemporaryDirectory("held")
        let store = try SQLiteStore(path: directory.path("store.sqlite"))
        try await store.write { writer in
            try StoreContractTests.seed(writer, jobs: ["J"], things: ["t"])
            var execution = try writer.insert(StoreContractTests.execution("J", "t"))
            guard let change else { return }
            change(&execution)
            execution.versionNumber = 2
            guard try writer.replace(execution, expectedVersion: 1) else { throw TestFailure("not replaced") }
        }
        return World(
            directory: directory, store: store,
            engine: JobEngine(store: store, now: { time }, progressHold: .seconds(3600)))
    }

    static let request = #"{"status":"IN_PROGRESS","statusDetails":{"receive":"1/4"}}"#

    /// Holds a report of t on J, as if the engine had last seen that execution in progress, and closes the ledger,
    /// which records it; returns its answer.
    static func hold(_ engine: JobEngine) async throws -> Result<Void, any Error> {
        var seen = StoreContractTests.execution("J", "t")
        seen.status = .inProgress
        engine.noteProgressState(of: seen)
        let answer = Mutex<Result<Void, any Error>?>(nil)
        let held = try await engine.holdProgress(
            thing: "t", jobID: "J", request: UpdateJobExecutionRequest(parsing: JSONParser.parse(Self.request))
        ) { outcome in
            answer.withLock { $0 = outcome }
        }
        #expect(held)
        await engine.closeHeldProgress()
        return try #require(answer.withLock { $0 })
    }

    @Test func aReportOnAnExecutionNotSeenInProgressIsNotHeld() async throws {
        let world = try await Self.world(at: 400)
        let held = try await world.engine.holdProgress(
            thing: "t", jobID: "J", request: UpdateJobExecutionRequest(parsing: JSONParser.parse(Self.request))
        ) { _ in }
        #expect(!held, "the first report moves the execution out of QUEUED: it is recorded at once")
        _ = try await world.engine.update(
            thing: "t", jobID: "J", request: UpdateJobExecutionRequest(parsing: JSONParser.parse(Self.request)))
        let heldNow = try await world.engine.holdProgress(
            thing: "t", jobID: "J", request: UpdateJobExecutionRequest(parsing: JSONParser.parse(Self.request))
        ) { _ in }
        #expect(heldNow, "in progress now")
        await world.engine.closeHeldProgress()
    }

    @Test func aReportOlderThanItsExecutionsLastChangeIsAcceptedAndChangesNothing() async throws {
        let world = try await Self.world(at: 400) { execution in
            execution.status = .inProgress
            execution.startedAt = 450
            execution.lastUpdatedAt = 500
        }
        let before = try await world.execution()
        let answer = try await Self.hold(world.engine)
        #expect((try? answer.get()) != nil, "accepted")
        #expect(try await world.execution() == before)
    }

    /// The engine saw it in progress, but it is QUEUED again (another instance, say): the checked path starts it.
    @Test func aHeldReportOnAQueuedExecutionStartsIt() async throws {
        let world = try await Self.world(at: 400)
        let answer = try await Self.hold(world.engine)
        #expect((try? answer.get()) != nil, "accepted")
        let started = try await world.execution()
        #expect(started?.status == .inProgress && started?.statusDetails == #"{"receive":"1/4"}"#)
    }

    @Test func aReportOnAnExecutionCanceledBeforeItIsRefused() async throws {
        let world = try await Self.world(at: 400) { execution in
            execution.status = .canceled
            execution.lastUpdatedAt = 300
        }
        let before = try await world.execution()
        let answer = try await Self.hold(world.engine)
        #expect((try? answer.get()) == nil, "refused")
        #expect(try await world.execution() == before)
    }
}
