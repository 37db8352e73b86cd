import Foundation
import OTAWire
import Synchronization
import TestSupport
import Testing

@testable import OTAService

// Group commit of devices' reports (Sources/OTAService/Storage/GroupCommit.swift): what arrives during a commit
// goes together in the next, each write stands or falls alone, a thing's writes keep their order. First the
// scheduling on its own, then on both real backends, with their savepoints.
@Suite struct GroupCommitTests {
    /// What the bodies did, in order.
    final class Log: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    /// Holds a commit until the test lets it go.
    final class Gate: Sendable {
        private let state = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))
        func wait() async {
            await withCheckedContinuation { continuation in
                let go = state.withLock { state in
                    if !state.open { state.waiting.append(continuation) }
                    return state.open
                }
                if go { continuation.resume() }
            }
        }
        func open() {
            let waiting = state.withLock { state in
                state.open = true
                defer { state.waiting = [] }
                return state.waiting
            }
            for continuation in waiting { continuation.resume() }
        }
    }

    @Test func writesArrivingDuringACommitGoTogetherInTheNext() async throws {
        let gate = Gate()
        let log = Log()
        let batches = Mutex<[[String]]>([])
        let commits = GroupCommit<Log>(lanes: 1, maximumBatch: 64) { entries in
            let first = batches.withLock { batches in
                batches.append(entries.map(\.thing))
                return batches.count == 1
            }
            if first { await gate.wait() }
            for entry in entries { try? entry.run(log) }
        }
        let first = Task { try await commits.write(thing: "t0") { _ in 0 } }
        #expect(await eventually { batches.withLock { $0.count } == 1 })
        let others = (1...10).map { number in
            Task { try await commits.write(thing: "t\(number)") { _ in number } }
        }
        #expect(await eventually { commits.queued == 10 })
        gate.open()
        #expect(try await first.value == 0)
        for (index, other) in others.enumerated() { #expect(try await other.value == index + 1) }
        let seen = batches.withLock { $0 }
        #expect(seen.count == 2 && seen[0] == ["t0"])
        #expect(Set(seen.last ?? []) == Set((1...10).map { "t\($0)" }))
        #expect(commits.committed == .init(batches: 2, reports: 11))
    }

    @Test func aBodyFailsAloneAndAFailedCommitFailsItsWholeBatch() async throws {
        struct Refused: Error {}
        struct Lost: Error {}
        let gates = ["hold-1": Gate(), "hold-2": Gate()]
        let log = Log()
        let commits = GroupCommit<Log>(lanes: 1, maximumBatch: 64) { entries in
            if let gate = gates[entries[0].thing] { await gate.wait() }
            for entry in entries { try? entry.run(log) }
            if entries.contains(where: { $0.thing == "doomed" }) { throw Lost() }
        }
        // Round 1: a write that succeeds and one that refuses commit together; only the refusing one fails.
        let hold = Task { try await commits.write(thing: "hold-1") { _ in } }
        #expect(await eventually { commits.queued == 0 })
        let fine = Task { try await commits.write(thing: "fine") { log in log.append("fine") } }
        let refusing = Task {
            try await commits.write(thing: "refusing") { log in
                log.append("refusing")
                throw Refused()
            }
        }
        #expect(await eventually { commits.queued == 2 })
        gates["hold-1"]!.open()
        try await hold.value
        try await fine.value
        await #expect(throws: Refused.self) { try await refusing.value }
        // Round 2: the commit itself fails: every write of the batch fails, a refusing one with its own error.
        let hold2 = Task { try await commits.write(thing: "hold-2") { _ in } }
        #expect(await eventually { commits.queued == 0 })
        let lost = Task { try await commits.write(thing: "fine") { log in log.append("lost") } }
        let doomed = Task { try await commits.write(thing: "doomed") { log in log.append("doomed") } }
        let refusingAgain = Task { try await commits.write(thing: "refusing") { _ in throw Refused() } }
        #expect(await eventually { commits.queued == 3 })
        gates["hold-2"]!.open()
        try await hold2.value
        await #expect(throws: Lost.self) { try await lost.value }
        await #expect(throws: Lost.self) { try await doomed.value }
        await #expect(throws: Refused.self) { try await refusingAgain.value }
        #expect(commits.committed == .init(batches: 3, reports: 4))
        #expect(log.all.prefix(2).sorted() == ["fine", "refusing"])
    }

    /// A thing with a write in a running batch waits for it; other things' writes go past in another lane.
    @Test func aThingsWritesNeverOvertakeOneAnother() async throws {
        let gate = Gate()
        let log = Log()
        let gated = Mutex(false)
        let commits = GroupCommit<Log>(lanes: 2, maximumBatch: 64) { entries in
            let first = gated.withLock { gated in
                defer { gated = true }
                return !gated
            }
            if first { await gate.wait() }
            for entry in entries { try? entry.run(log) }
        }
        let a1 = Task { try await commits.write(thing: "a") { log in log.append("a1") } }
        #expect(await eventually { gated.withLock { $0 } })
        let a2 = Task { try await commits.write(thing: "a") { log in log.append("a2") } }
        #expect(await eventually { commits.queued == 1 })
        // The second lane is free, but a's next write must wait for a's first: b goes alone.
        try await commits.write(thing: "b") { log in log.append("b1") }
        #expect(commits.queued == 1 && log.all == ["b1"])
        gate.open()
        try await a1.value
        try await a2.value
        #expect(log.all == ["b1", "a1", "a2"])
    }

    /// On the real backends: reports queued behind busy lanes commit together, and each stands or falls alone — a
    /// report that wrote and then threw leaves nothing (its savepoint rolled back), the others in its batch stand.
    @Test(arguments: StoreContractTests.backends)
    func reportsCommittedTogetherStandOrFallAlone(_ backend: StoreContractTests.Backend) async throws {
        struct Refused: Error {}
        let directory = try TemporaryDirectory("group-commit")
        let store = try await backend.make(directory)
        // Each backend's group commit (typed by its own transaction).
        let queuedReports: @Sendable () -> Int
        if let sqlite = store as? SQLiteStore {
            queuedReports = { sqlite.reports.queued }
        } else {
            let postgres = try #require(store as? PostgresStore)
            queuedReports = { postgres.reports.queued }
        }
        let things = (0..<10).map { "t\($0)" }
        try await store.write { writer in
            for name in things { try writer.save(Thing(name: name, createdAt: 1)) }
        }
        // Holders occupy every lane (SQLite has one, PostgreSQL four) until the reports are queued behind them.
        let release = DispatchSemaphore(value: 0)
        let started = Log()
        let holders = (0..<4).map { number in
            Task {
                try await store.write(thing: "holder\(number)") { writer in
                    started.append("holder\(number)")
                    release.wait()
                    try writer.save(Thing(name: "holder\(number)", createdAt: 1))
                }
            }
        }
        let running = { started.all.count }
        #expect(await eventually { running() >= 1 && running() + queuedReports() == 4 })
        let results = things.enumerated().map { index, name in
            Task {
                try await store.write(thing: name) { writer in
                    if index == 9 { throw Refused() }  // before writing anything
                    try writer.save(Thing(name: name, attributes: ["n": "1"], createdAt: 1))
                    if index % 2 == 1 { throw Refused() }  // after writing
                    return index
                }
            }
        }
        #expect(await eventually { queuedReports() == 4 - running() + 10 })
        for _ in 0..<4 { release.signal() }
        for holder in holders { try await holder.value }
        for (index, result) in results.enumerated() {
            if index % 2 == 1 {
                await #expect(throws: Refused.self) { try await result.value }
            } else {
                #expect(try await result.value == index)
            }
        }
        let stored = try await store.read { reader in try things.map { try reader.thing(named: $0)?.attributes["n"] } }
        #expect(stored == things.indices.map { $0 % 2 == 0 ? "1" : nil })
        // One batch for the first holder, then what queued behind it goes in as few batches as lanes free up.
        #expect(store.reportCommits.reports == 14 && store.reportCommits.batches <= 5)
        await store.close()
    }
}
