import Synchronization
import Testing

@testable import OTAService

// Work that comes while a batch is being done goes together in the next (BatchesWhileBusy.swift): a lone item goes
// at once; each caller returns, or fails, with its own batch. PostgreSQL's last-seen writes and the cluster bus's
// announcements go this way.
@Suite struct BatchesWhileBusyTests {
    /// A write that records each batch and holds the first until the test lets it go.
    final class HeldWrites: Sendable {
        let batches = Mutex<[[LastSeenBatch.Seen]]>([])
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let failure: (any Error)?

        init(failure: (any Error)? = nil) { self.failure = failure }

        func write(_ batch: [LastSeenBatch.Seen]) async throws {
            let first = batches.withLock { batches in
                batches.append(batch)
                return batches.count == 1
            }
            if first { await withCheckedContinuation { continuation in gate.withLock { $0 = continuation } } }
            if let failure { throw failure }
        }

        /// Lets the held first write go, once it is held.
        func release() async {
            while true {
                let held = gate.withLock { gate in
                    defer { gate = nil }
                    return gate
                }
                if let held { return held.resume() }
                await Task.yield()
            }
        }
    }

    static func seen(_ thing: String, _ time: Int64) -> LastSeenBatch.Seen {
        LastSeenBatch.Seen(thing: thing, time: time, interval: 60)
    }

    @Test func writesThatComeWhileOneIsOnItsWayGoTogether() async throws {
        let writes = HeldWrites()
        let batch = BatchesWhileBusy<LastSeenBatch.Seen> { try await writes.write($0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await batch.submit(Self.seen("first", 1)) }
            // The first write is on its way (held) before the others come.
            while writes.batches.withLock({ $0.isEmpty }) { await Task.yield() }
            for index in 0..<9 { group.addTask { try await batch.submit(Self.seen("t\(index)", 2)) } }
            // Nothing more is written while the first is held: the nine wait together.
            try await Task.sleep(for: .milliseconds(50))
            #expect(writes.batches.withLock { $0.count } == 1)
            #expect(batch.unfinished == 10)
            await writes.release()
            try await group.waitForAll()
        }
        #expect(batch.unfinished == 0)
        let sizes = writes.batches.withLock { $0.map(\.count) }
        #expect(sizes == [1, 9])
    }

    @Test func aFailedBatchFailsEachOfItsCallersAndTheNextBatchStillGoes() async throws {
        struct Down: Error {}
        let writes = HeldWrites(failure: Down())
        let batch = BatchesWhileBusy<LastSeenBatch.Seen> { try await writes.write($0) }
        let failed = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<3 {
                group.addTask { (try? await batch.submit(Self.seen("t\(index)", 1))) == nil }
            }
            await writes.release()
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(failed == [true, true, true])
        // The batcher is not stuck after a failure.
        await #expect(throws: Down.self) { try await batch.submit(Self.seen("later", 2)) }
    }

    @Test func aThingSeenTwiceInABatchIsWrittenOnceWithItsLaterTime() {
        let written = LastSeenBatch.latestPerThing([
            Self.seen("a", 5), Self.seen("b", 3), Self.seen("a", 9), Self.seen("a", 7),
        ])
        #expect(written.map(\.thing) == ["a", "b"] && written.map(\.time) == [9, 3])
    }
}
