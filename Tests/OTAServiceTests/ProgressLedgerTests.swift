import OTAWire
import Synchronization
import Testing

@testable import OTAService

// The ledger's order and batching on its own, with a recorder the test controls.
@Suite struct ProgressLedgerTests {
    /// What was answered, as "thing text".
    final class Answers: Sendable {
        let list = Mutex<[String]>([])
        var count: Int { list.withLock { $0.count } }
    }

    static func held(_ thing: String, _ text: String, answered: Answers) throws -> ProgressLedger.Held {
        let request = try UpdateJobExecutionRequest(parsing: JSONParser.parse(#"{"status":"IN_PROGRESS"}"#))
        return ProgressLedger.Held(
            report: ProgressReport(
                jobID: "J", thing: thing, statusDetails: JSONObject([JSONMember("receive", .string(text))]), time: 1,
                inProgressTimeoutMinutes: nil),
            request: request,
            answer: { _ in answered.list.withLock { $0.append(thing + " " + text) } })
    }

    /// Batches the recorder saw, as "thing text" lists; the recorder waits while `gate` is closed.
    final class Recorder: Sendable {
        let batches = Mutex<[[String]]>([])
        let gate = Mutex<Bool>(true)

        func record(_ batch: [ProgressLedger.Held]) async {
            let names = batch.map { $0.report.thing + " " + ($0.report.statusDetails?["receive"]?.stringValue ?? "") }
            batches.withLock { $0.append(names) }
            while !gate.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
            for held in batch { held.answer(.success(())) }
        }
    }

    @Test func reportsHeldTogetherAreRecordedInOneBatch() async throws {
        let ledger = ProgressLedger(interval: .milliseconds(50))
        let recorder = Recorder()
        let answered = Answers()
        ledger.setRecorder { await recorder.record($0) }
        for thing in ["a", "b", "c"] { ledger.hold(try Self.held(thing, "1/9", answered: answered)) }
        #expect(ledger.count == 3)
        while answered.count < 3 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(recorder.batches.withLock { $0.map { $0.sorted() } } == [["a 1/9", "b 1/9", "c 1/9"]])
        #expect(ledger.count == 0)
    }

    @Test func settleRecordsTheThingsReportsAfterTheRecordingUnderWay() async throws {
        let ledger = ProgressLedger(interval: .milliseconds(20))
        let recorder = Recorder()
        let answered = Answers()
        ledger.setRecorder { await recorder.record($0) }
        recorder.gate.withLock { $0 = false }
        // The scheduled flush takes both and stops at the gate; their next reports come meanwhile.
        ledger.hold(try Self.held("a", "1/9", answered: answered))
        ledger.hold(try Self.held("b", "1/9", answered: answered))
        while recorder.batches.withLock({ $0.count }) < 1 { try await Task.sleep(for: .milliseconds(5)) }
        ledger.hold(try Self.held("a", "2/9", answered: answered))
        ledger.hold(try Self.held("b", "2/9", answered: answered))
        let settled = Task { await ledger.settle(thing: "a") }
        try await Task.sleep(for: .milliseconds(100))
        #expect(recorder.batches.withLock { $0.count } == 1, "a's later report waits for the recording of its earlier")
        recorder.gate.withLock { $0 = true }
        await settled.value
        let afterSettle = recorder.batches.withLock { $0 }
        #expect(afterSettle.first?.sorted() == ["a 1/9", "b 1/9"])
        #expect(
            afterSettle.dropFirst().joined().contains("a 2/9"),
            "recorded after its earlier report, before settle returned")
        while answered.count < 4 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(recorder.batches.withLock { $0 }.joined().sorted() == ["a 1/9", "a 2/9", "b 1/9", "b 2/9"])
        #expect(ledger.count == 0)
    }

    @Test func closeRecordsWhatIsHeldAndRefusesWhatComesAfter() async throws {
        let ledger = ProgressLedger(interval: .seconds(3600))
        let recorder = Recorder()
        let answered = Answers()
        ledger.setRecorder { await recorder.record($0) }
        ledger.hold(try Self.held("a", "1/9", answered: answered))
        await ledger.close()
        #expect(recorder.batches.withLock { $0 } == [["a 1/9"]])
        let refused = Answers()
        let late = try Self.held("b", "1/9", answered: refused)
        ledger.hold(
            ProgressLedger.Held(report: late.report, request: late.request) { outcome in
                if case .failure = outcome { refused.list.withLock { $0.append("refused") } }
            })
        #expect(refused.list.withLock { $0 } == ["refused"])
        #expect(ledger.count == 0)
    }
}
