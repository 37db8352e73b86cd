import Foundation
import OTAService
import OTAWire
import TestSupport
import Testing

// Continuous groups, rollout rates, abort criteria, timeouts and cancel, under the harness's manual clock: the
// test moves time and runs the engine's tick itself, so every count is deterministic.
@Suite(.serialized) struct JobRolloutTests {
    static func executions(_ service: ServiceHarness, _ jobID: String) async throws -> [JobExecution] {
        try await service.server.store.read { try $0.executions(jobID: jobID) }
    }

    static func things(_ service: ServiceHarness, _ count: Int, group: String) async throws {
        _ = try await service.server.registry.createGroup(group)
        for index in 0..<count {
            let name = String(format: "\(group)-%03d", index)
            _ = try await service.server.registry.createThing(name)
            try await service.server.registry.addMember(name, to: group)
        }
    }

    @Test func aThingThatJoinsAContinuousGroupGetsItsExecutionAndNotifyNext() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        try await Self.things(service, 2, group: "fleet")
        let (file, _) = try await service.uploadFirmware(version: "1.0.1", payloadSize: 3000)
        _ = try await service.createUpdate("cont", file: file, groups: ["fleet"]) { $0.targetSelection = .continuous }
        _ = try await service.createUpdate("snap", file: file, groups: ["fleet"])
        #expect(try await Self.executions(service, "AFR_OTA-cont").count == 2)

        // A device that exists and is connected, then joins the group.
        let late = try await service.device("late-comer")
        try await late.subscribe("$aws/things/late-comer/jobs/notify-next", qos: .atLeastOnce)
        try await service.server.registry.addMember("late-comer", to: "fleet")
        let notify = try await late.takeText("$aws/things/late-comer/jobs/notify-next")
        #expect(notify.contains(#""jobId":"AFR_OTA-cont","thingName":"late-comer","status":"QUEUED""#))
        #expect(try await service.execution("AFR_OTA-cont", "late-comer")?.status == .queued)
        #expect(try await service.execution("AFR_OTA-snap", "late-comer") == nil, "snapshot jobs keep their targets")

        // Leaving the group removes the open execution; re-joining (re-provisioning) queues execution number 2.
        try await service.server.registry.removeMember("late-comer", from: "fleet")
        #expect(try await service.execution("AFR_OTA-cont", "late-comer")?.status == .removed)
        try await service.server.registry.addMember("late-comer", to: "fleet")
        let again = try #require(try await service.execution("AFR_OTA-cont", "late-comer"))
        #expect(again.status == .queued && again.executionNumber == 2)
        await late.close()
    }

    @Test func aNewThingMatchingADynamicGroupQueryJoinsAContinuousUpdate() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        _ = try await service.server.registry.createGroup("eu", query: "region=eu AND model=v2")
        _ = try await service.server.registry.createThing("early", attributes: ["region": "eu", "model": "v2"])
        let (file, _) = try await service.uploadFirmware(version: "1.0.2", payloadSize: 2000)
        _ = try await service.createUpdate("dyn", file: file, groups: ["eu"]) { $0.targetSelection = .continuous }
        _ = try await service.server.registry.createThing("new-eu", attributes: ["region": "eu", "model": "v2"])
        _ = try await service.server.registry.createThing("new-us", attributes: ["region": "us", "model": "v2"])
        #expect(try await service.execution("AFR_OTA-dyn", "new-eu")?.status == .queued)
        #expect(try await service.execution("AFR_OTA-dyn", "new-us") == nil)
        // An attribute change that makes a thing match is a join too.
        _ = try await service.server.registry.setAttributes(of: "new-us", to: ["region": "eu", "model": "v2"])
        #expect(try await service.execution("AFR_OTA-dyn", "new-us")?.status == .queued)
    }

    @Test func theRolloutReleasesAtMostMaximumPerMinute() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        try await Self.things(service, 25, group: "rate")
        let (file, _) = try await service.uploadFirmware(version: "1.1.0", payloadSize: 1000)
        _ = try await service.createUpdate("rate", file: file, groups: ["rate"]) {
            $0.rollout = RolloutConfig(maximumPerMinute: 10)
        }
        #expect(try await Self.executions(service, "AFR_OTA-rate").count == 10)
        try await service.server.engine.tick()
        service.clock.advance(by: 59)
        try await service.server.engine.tick()
        #expect(try await Self.executions(service, "AFR_OTA-rate").count == 10, "still inside the first minute")
        service.clock.advance(by: 1)
        #expect(try await service.server.engine.tick().released == 10)
        service.clock.advance(by: 60)
        #expect(try await service.server.engine.tick().released == 5)
        #expect(try await Self.executions(service, "AFR_OTA-rate").count == 25)
    }

    @Test func anExponentialRateGrowsWithNotifiedThings() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        try await Self.things(service, 30, group: "exp")
        let (file, _) = try await service.uploadFirmware(version: "1.1.1", payloadSize: 1000)
        _ = try await service.createUpdate("exp", file: file, groups: ["exp"]) {
            $0.rollout = RolloutConfig(
                maximumPerMinute: 12,
                exponentialRate: ExponentialRate(baseRatePerMinute: 2, incrementFactor: 2, numberOfNotifiedThings: 2))
        }
        var released: [Int] = [try await Self.executions(service, "AFR_OTA-exp").count]
        for _ in 0..<4 {
            service.clock.advance(by: 60)
            released.append(try await service.server.engine.tick().released)
        }
        // 2 notified → rate 4; 6 → 16, capped at 12.
        #expect(released == [2, 4, 12, 12, 0])
    }

    @Test func theAbortThresholdCancelsTheJobOnceEnoughThingsExecuted() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        try await Self.things(service, 10, group: "ab")
        let (file, _) = try await service.uploadFirmware(version: "1.2.0", payloadSize: 1000)
        _ = try await service.createUpdate("ab", file: file, groups: ["ab"]) {
            $0.abortCriteria = [
                AbortCriterion(failureType: .failed, thresholdPercentage: 50, minNumberOfExecutedThings: 4)
            ]
        }
        let engine = service.server.engine
        func report(_ thing: String, _ status: String) async throws {
            let request = try UpdateJobExecutionRequest(parsing: try JSONParser.parse(#"{"status":"\#(status)"}"#))
            _ = try await engine.update(thing: thing, jobID: "AFR_OTA-ab", request: request)
        }
        try await report("ab-000", "FAILED")
        try await report("ab-001", "FAILED")
        try await report("ab-002", "SUCCEEDED")
        try await report("ab-003", "IN_PROGRESS")
        #expect(try await engine.tick().aborted.isEmpty, "3 executed < the minimum of 4")
        try await report("ab-004", "FAILED")
        #expect(try await engine.tick().aborted == ["AFR_OTA-ab"], "3 of 4 failed ≥ 50 %")

        let job = try #require(try await service.server.store.read { try $0.job(id: "AFR_OTA-ab") })
        #expect(job.status == .canceled && job.reason?.hasPrefix("abort: FAILED") == true)
        let byThing = Dictionary(
            uniqueKeysWithValues: try await Self.executions(service, "AFR_OTA-ab").map { ($0.thingName, $0.status) })
        #expect(byThing["ab-003"] == .inProgress, "a running device is not canceled without force")
        #expect(byThing["ab-005"] == .canceled && byThing["ab-009"] == .canceled)
        #expect(byThing["ab-000"] == .failed && byThing["ab-002"] == .succeeded)
    }

    @Test func anInProgressTimeoutMovesTheExecutionToTimedOut() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let device = try await service.device("slow")
        try await device.subscribe("$aws/things/slow/jobs/notify-next", qos: .atLeastOnce)
        // A progress report for the job before it exists is refused, and leaves nothing behind: the job's timeout,
        // once it is created, still applies (the engine remembers only the timeouts of jobs it found).
        try await device.publish(
            "$aws/things/slow/jobs/AFR_OTA-slow/update", json: #"{"status":"IN_PROGRESS","statusDetails":{"r":"1"}}"#)
        let early = try await device.takeText("$aws/things/slow/jobs/AFR_OTA-slow/update/rejected")
        #expect(early.contains(#""code":"ResourceNotFound""#), "\(early)")
        let (file, _) = try await service.uploadFirmware(version: "1.3.0", payloadSize: 1000)
        _ = try await service.createUpdate("slow", file: file, things: ["slow"]) { $0.inProgressTimeoutMinutes = 5 }
        _ = try await device.take("$aws/things/slow/jobs/notify-next")
        try await device.publish("$aws/things/slow/jobs/AFR_OTA-slow/update", json: #"{"status":"IN_PROGRESS"}"#)
        _ = try await device.take("$aws/things/slow/jobs/AFR_OTA-slow/update/accepted")

        service.clock.advance(by: 299)
        #expect(try await service.server.engine.tick().timedOut == 0)
        service.clock.advance(by: 1)
        #expect(try await service.server.engine.tick().timedOut == 1)
        #expect(try await service.execution("AFR_OTA-slow", "slow")?.status == .timedOut)
        // The device hears that nothing is pending any more; a late report is refused.
        #expect(
            try await device.takeText("$aws/things/slow/jobs/notify-next") == #"{"timestamp":\#(service.clock.now)}"#)
        try await device.publish("$aws/things/slow/jobs/AFR_OTA-slow/update", json: #"{"status":"SUCCEEDED"}"#)
        let late = try await device.takeText("$aws/things/slow/jobs/AFR_OTA-slow/update/rejected")
        #expect(late.contains(#""code":"InvalidStateTransition""#))
        await device.close()
    }

    @Test func cancelLeavesRunningDevicesAloneUnlessForced() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        try await Self.things(service, 3, group: "c")
        let (file, _) = try await service.uploadFirmware(version: "1.4.0", payloadSize: 1000)
        _ = try await service.createUpdate("c", file: file, groups: ["c"])
        let request = try UpdateJobExecutionRequest(parsing: try JSONParser.parse(#"{"status":"IN_PROGRESS"}"#))
        _ = try await service.server.engine.update(thing: "c-000", jobID: "AFR_OTA-c", request: request)
        try await service.server.engine.cancel(jobID: "AFR_OTA-c", force: false)
        #expect(try await service.execution("AFR_OTA-c", "c-000")?.status == .inProgress)
        #expect(try await service.execution("AFR_OTA-c", "c-001")?.status == .canceled)
        await #expect(throws: OTAServiceError.self) {
            try await service.server.engine.cancel(jobID: "AFR_OTA-c", force: false)
        }
        try await service.server.engine.cancel(jobID: "AFR_OTA-c", force: true)
        #expect(try await service.execution("AFR_OTA-c", "c-000")?.status == .canceled)
    }
}
