import Foundation
import Logging
import OTAWire
import Synchronization
import TestSupport
import Testing

@testable import OTAService

// What only a shared database has to get right: several instances migrating and writing at once, a server that is
// not there, and the URL that names it.
@Suite(.serialized) struct PostgresStoreTests {
    static func instance(_ url: PostgresDatabaseURL) throws -> PostgresStore {
        try PostgresStore(url: url, maximumConnections: 4, logger: Logger(label: "test"))
    }

    /// A fresh store with things `things`, job J, and J's execution for `thing` in progress.
    static func storeWithJobInProgress(
        for thing: String, things: [String], connections: Int
    ) async throws -> PostgresStore {
        let store = try PostgresStore(
            url: try await PostgresTestDatabase.create(), maximumConnections: connections, logger: Logger(label: "test")
        )
        try await store.prepare()
        var running = StoreContractTests.execution("J", thing)
        running.status = .inProgress
        let inProgress = running
        try await store.write { writer in
            try StoreContractTests.seed(writer, jobs: ["J"], things: things)
            _ = try writer.insert(inProgress)
        }
        return store
    }

    /// A stored row the record cannot hold (another program wrote it, or a newer schema) is a typed error that names
    /// the table and column, not a crash.
    @Test func rowsThatDoNotDecodeAreNamedInATypedError() async throws {
        let store = try await Self.storeWithJobInProgress(for: "t", things: ["t"], connections: 2)
        for (column, value, says) in [
            ("status", "'BOGUS'", "JobExecution.status"),
            ("versionNumber", "NULL", "JobExecution.versionNumber is NULL"),
        ] {
            _ = try await store.transaction(.serializedWrite) { transaction in
                try transaction.run(#"ALTER TABLE "jobExecution" ALTER COLUMN "\#(column)" DROP NOT NULL"#)
                try transaction.run(#"UPDATE "jobExecution" SET "\#(column)" = \#(value) WHERE "jobID" = 'J'"#)
            }
            let error = await #expect(throws: StoreError.self) {
                try await store.read { try $0.execution(jobID: "J", thing: "t") }
            }
            #expect(String(describing: error).contains(says), "\(String(describing: error))")
            _ = try await store.transaction(.serializedWrite) { transaction in
                try transaction.run(#"UPDATE "jobExecution" SET "status" = 'IN_PROGRESS', "versionNumber" = 1"#)
            }
        }
        #expect(try await store.read { try $0.execution(jobID: "J", thing: "t") }?.status == .inProgress)
        await store.close()
    }

    /// A lock that the operator's `lock_timeout` gave up waiting for means the database is unavailable for now (the API
    /// answers 503, and a device retries). It says nothing about the stored data, and the write changes nothing.
    @Test func aLockTimeoutIsUnavailableNotCorrupt() async throws {
        let url = try await PostgresTestDatabase.create()
        let holder = try Self.instance(url)
        try await holder.prepare()
        try await holder.write { try $0.save(Thing(name: "t", attributes: ["n": "0"], createdAt: 1)) }
        _ = try await holder.transaction(.autocommit) { transaction in
            let name = try #require(try transaction.strings("SELECT current_database()").first)
            try transaction.run(#"ALTER DATABASE "\#(name)" SET lock_timeout = '100ms'"#)
        }
        // Another instance, whose sessions start after the setting: its write of t waits for the holder's lock.
        let waiter = try Self.instance(url)
        let (gate, holding) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        let held = Task {
            try await holder.write(thing: "t") { writer in
                _ = try writer.thing(named: "t")  // the transaction opens, with t's lock
                holding.signal()
                gate.wait()
            }
        }
        await Task.detached { holding.wait() }.value
        let error = await #expect(throws: StoreError.self) {
            try await waiter.write(thing: "t") { try $0.save(Thing(name: "t", attributes: ["n": "1"], createdAt: 1)) }
        }
        gate.signal()
        try await held.value
        guard case .unavailable(let why) = error else {
            Issue.record("a lock timeout is not corrupt data: \(String(describing: error))")
            return
        }
        #expect(why.contains("55P03"), "\(why)")
        #expect(try await waiter.read { try $0.thing(named: "t") }?.attributes == ["n": "0"])
        await holder.close()
        await waiter.close()
    }

    /// A device's last-seen time is one statement, whichever instance it came back to: no BEGIN, lock, read or COMMIT.
    @Test func lastSeenIsOneStatement() async throws {
        let store = try Self.instance(try await PostgresTestDatabase.create())
        try await store.prepare()
        try await store.write { try $0.save(Thing(name: "t", createdAt: 1)) }
        let before = try #require(store.databaseStatements)
        try await store.recordSeen(thing: "t", at: 500, interval: 60)
        #expect(try #require(store.databaseStatements) - before == 1)
        #expect(try await store.read { try $0.thing(named: "t") }?.lastSeenAt == 500)
        await store.close()
    }

    /// A reconnect storm's last-seen writes go in a few statements, not one each, and each lands.
    @Test func lastSeenWritesThatComeTogetherShareStatements() async throws {
        let store = try Self.instance(try await PostgresTestDatabase.create())
        try await store.prepare()
        let things = (0..<40).map { "t\($0)" }
        try await store.write { writer in for thing in things { try writer.save(Thing(name: thing, createdAt: 1)) } }
        let before = try #require(store.databaseStatements)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for thing in things { group.addTask { try await store.recordSeen(thing: thing, at: 500, interval: 60) } }
            try await group.waitForAll()
        }
        #expect(try #require(store.databaseStatements) - before < things.count)
        let seen = try await store.read { reader in try things.map { try reader.thing(named: $0)?.lastSeenAt } }
        #expect(seen.allSatisfy { $0 == 500 })
        await store.close()
    }

    @Test func instancesStartingTogetherMigrateOnce() async throws {
        let url = try await PostgresTestDatabase.create()
        let instances = try (0..<4).map { _ in try Self.instance(url) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for instance in instances { group.addTask { try await instance.prepare() } }
            try await group.waitForAll()
        }
        let applied = try await instances[0].transaction(.snapshot) {
            try $0.strings(#"SELECT "id" FROM "schemaMigration" ORDER BY "id""#)
        }
        #expect(applied == PostgresSchema.migrations.map(\.id).sorted())
        // Starting again applies nothing and loses nothing.
        try await instances[1].write { try $0.save(Thing(name: "kept", createdAt: 1)) }
        try await instances[2].prepare()
        #expect(try await instances[3].read { try $0.thing(named: "kept") } != nil)
        for instance in instances { await instance.close() }
    }

    @Test func twoInstancesMovingOneExecutionFromTheSameVersionOneWins() async throws {
        let url = try await PostgresTestDatabase.create()
        let first = try Self.instance(url)
        let second = try Self.instance(url)
        try await first.prepare()
        let inserted = try await first.write { writer in
            try StoreContractTests.seed(writer, jobs: ["J"], things: ["t"])
            return try writer.insert(StoreContractTests.execution("J", "t"))
        }
        for round in 0..<20 {
            var succeeded = inserted
            succeeded.status = .succeeded
            succeeded.versionNumber = inserted.versionNumber + 1
            var failed = succeeded
            failed.status = .failed
            let expected = inserted.versionNumber
            async let a = first.write { [succeeded] in try $0.replace(succeeded, expectedVersion: expected) }
            async let b = second.write { [failed] in try $0.replace(failed, expectedVersion: expected) }
            let outcomes = try await [a, b]
            #expect(outcomes.filter { $0 }.count == 1, "round \(round): exactly one instance moves the execution")
            let stored = try await second.read { try $0.execution(jobID: "J", thing: "t") }
            #expect(stored?.status == (outcomes[0] ? .succeeded : .failed))
            // Back to the starting version for the next round.
            _ = try await first.transaction(.serializedWrite) { transaction in
                try transaction.run(
                    #"UPDATE "jobExecution" SET "versionNumber" = $1, "status" = 'QUEUED' WHERE "jobID" = 'J'"#,
                    [.integer(expected)])
            }
        }
        await first.close()
        await second.close()
    }

    /// Devices' reports (writes scoped to their thing) run side by side, but never beside a write that may touch
    /// everything, and never two at once for one thing: read-modify-write cycles with a pause in the middle, from
    /// two instances and both kinds of write, lose no increment.
    @Test func thingWritesAndWritesOfEverythingNeverInterleave() async throws {
        let url = try await PostgresTestDatabase.create()
        let (first, second) = (try Self.instance(url), try Self.instance(url))
        try await first.prepare()
        try await first.write { try $0.save(Thing(name: "t", attributes: ["n": "0"], createdAt: 1)) }
        @Sendable func increment(_ writer: any StoreWriter) throws {
            var thing = try #require(try writer.thing(named: "t"))
            usleep(2_000)  // another writer would read the same value now
            thing.attributes["n"] = String(Int(thing.attributes["n"] ?? "")! + 1)
            try writer.save(thing)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for store in [first, second] {
                group.addTask { for _ in 0..<15 { try await store.write(thing: "t", increment) } }
                group.addTask { for _ in 0..<15 { try await store.write(increment) } }
            }
            // Another thing's reports do not wait for t's (nothing to assert on time; they must simply commit).
            group.addTask {
                for round in 0..<15 {
                    try await second.write(thing: "u") { try $0.save(Thing(name: "u", createdAt: Int64(round))) }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await first.read { try $0.thing(named: "t")?.attributes["n"] } == "60")
        #expect(try await first.read { try $0.thing(named: "u")?.createdAt } == 14)
        // Every instance must lock the same key for a thing: the hash is pinned (FNV-1a, folded to 32 bits), not
        // Swift's per-process seeded one.
        #expect(PostgresSchema.thingLockKey("dev-00001") == 2_101_262_373)
        #expect(PostgresSchema.thingLockKey("dev-00002") == 2_101_263_344)
        await first.close()
        await second.close()
    }

    /// BEGIN and the locks are held back and sent with the body's first statement: whatever that statement is, it
    /// runs inside the transaction and under its locks; a body that sends nothing opens nothing; notifications run
    /// each on its own.
    @Test func transactionsOpenWithTheirFirstStatement() async throws {
        let url = try await PostgresTestDatabase.create()
        let store = try PostgresStore(url: url, maximumConnections: 1, logger: Logger(label: "test"))
        try await store.prepare()
        struct Undo: Error {}
        let advisoryLocksHeld =
            #"SELECT count(*)::int8 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"#
        // A write first: it is inside the transaction (rolled back with it) and under the thing's locks.
        let locksSeen = Mutex<Int64?>(nil)
        await #expect(throws: Undo.self) {
            try await store.transaction(.thingWrites(["t"])) { transaction in
                try transaction.save(Thing(name: "t", createdAt: 1))
                let held = try transaction.run(advisoryLocksHeld).rows.first?.decode(Int64.self)
                locksSeen.withLock { $0 = held }
                throw Undo()
            }
        }
        #expect(locksSeen.withLock { $0 } == 2)  // the write lock shared and the thing's own
        #expect(try await store.read { try $0.thing(named: "t") } == nil)
        // A body that sends nothing leaves no transaction open on the (only) connection.
        #expect(try await store.transaction(.serializedWrite) { _ in 7 } == 7)
        let (first, second) = try await store.transaction(.independentWrite) { transaction in
            (
                try transaction.run("SELECT txid_current()").rows.first?.decode(Int64.self),
                try transaction.run("SELECT txid_current()").rows.first?.decode(Int64.self)
            )
        }
        #expect(first != nil && first == second)
        let (alone, next) = try await store.transaction(.autocommit) { transaction in
            (
                try transaction.run("SELECT txid_current()").rows.first?.decode(Int64.self),
                try transaction.run("SELECT txid_current()").rows.first?.decode(Int64.self)
            )
        }
        #expect(alone != nil && next != nil && alone != next)
        await store.close()
    }

    /// A read of one statement runs alone (the server's default isolation, no BEGIN); a read of more runs again
    /// from the start in one REPEATABLE READ snapshot, also when its body caught the refusal of its second statement.
    @Test func readsOfOneStatementRunAloneAndLongerOnesInOneSnapshot() async throws {
        let url = try await PostgresTestDatabase.create()
        let store = try PostgresStore(url: url, maximumConnections: 1, logger: Logger(label: "test"))
        try await store.prepare()
        @Sendable func isolation(_ reader: any StoreReader) throws -> String? {
            let transaction = try #require(reader as? PostgresTransaction)
            return try transaction.strings("SELECT current_setting('transaction_isolation')").first
        }
        let runs = Mutex(0)
        var statements = try #require(store.databaseStatements)
        let alone = try await store.read { reader in
            runs.withLock { $0 += 1 }
            return try isolation(reader)
        }
        #expect(alone == "read committed" && runs.withLock { $0 } == 1)
        #expect(try #require(store.databaseStatements) - statements == 1)
        runs.withLock { $0 = 0 }
        statements = try #require(store.databaseStatements)
        let two = try await store.read { reader in
            runs.withLock { $0 += 1 }
            return [try isolation(reader), try isolation(reader)]
        }
        #expect(two == ["repeatable read", "repeatable read"] && runs.withLock { $0 } == 2)
        // The first try's statement, then BEGIN, the two, COMMIT.
        #expect(try #require(store.databaseStatements) - statements == 5)
        let caught = try await store.read { reader in [try isolation(reader), (try? isolation(reader)) ?? "refused"] }
        #expect(caught == ["repeatable read", "repeatable read"])
        await store.close()
    }

    /// A device's report is first committed without a savepoint; only a report that threw after it may have changed
    /// something, or whose statement failed, makes its batch run again with savepoints (one more transaction), and
    /// then nothing of it stays.
    @Test func aBatchRunsAgainWithSavepointsOnlyWhenAReportLeftSomethingToUndo() async throws {
        struct Refused: Error {}
        let url = try await PostgresTestDatabase.create()
        let store = try PostgresStore(url: url, maximumConnections: 4, logger: Logger(label: "test"))
        try await store.prepare()
        @Sendable func report(_ thing: String, _ body: @escaping @Sendable (any StoreWriter) throws -> Void)
            async -> (transactions: Int, refused: Bool)
        {
            let before = store.transactionCount
            let refused: Bool
            do {
                try await store.write(thing: thing, body)
                refused = false
            } catch {
                refused = true
            }
            return (store.transactionCount - before, refused)
        }
        let stored = Thing(name: "t", attributes: ["n": "1"], createdAt: 1)
        #expect(await report("t") { try $0.save(stored) } == (1, false))
        #expect(await report("t") { _ in throw Refused() } == (1, true))
        #expect(
            await report("t") { writer in
                _ = try writer.thing(named: "t"); throw Refused()
            } == (1, true))
        // A replace of an execution that is not there touches no row: nothing to undo either.
        let absent = JobExecution(
            jobID: "j", thingName: "t", executionNumber: 1, status: .queued, statusDetails: nil, queuedAt: 1,
            startedAt: nil, lastUpdatedAt: 1, versionNumber: 1, timeoutAt: nil, sequence: 0)
        #expect(
            await report("t") { writer in
                guard try writer.replace(absent, expectedVersion: 1) else { throw Refused() }
            } == (1, true))
        let changed = Thing(name: "t", attributes: ["n": "2"], createdAt: 1)
        #expect(
            await report("t") { writer in
                try writer.save(changed); throw Refused()
            } == (2, true))
        #expect(
            await report("t") { writer in
                try writer.save(changed)
                _ = try #require(writer as? PostgresTransaction).run("SELECT 1 / 0")
            } == (2, true))
        #expect(try await store.read { try $0.thing(named: "t") } == stored)
        await store.close()
    }

    /// Progress reports recorded first, several things' in one statement that is a transaction by itself, store
    /// what each report's own statement stores (the state machine's change) and commit it; each result goes once to
    /// a body asking with the same report.
    @Test func progressRecordedFirstIsWhatEachReportWouldStore() async throws {
        let url = try await PostgresTestDatabase.create()
        let store = try PostgresStore(url: url, maximumConnections: 2, logger: Logger(label: "test"))
        try await store.prepare()
        let things = ["a", "b", "c", "queued"]
        var inProgress = StoreContractTests.execution("J", "")
        inProgress.status = .inProgress
        inProgress.versionNumber = 2
        let running = inProgress
        try await store.write { writer in
            try StoreContractTests.seed(writer, jobs: ["J"], things: things)
            for thing in things {
                var execution = thing == "queued" ? StoreContractTests.execution("J", thing) : running
                execution.thingName = thing
                execution.startedAt = thing == "b" ? 50 : nil
                _ = try writer.insert(execution)
            }
        }
        let details = JSONObject([JSONMember("receive", .string("25/256"))])
        let reports = [
            ProgressReport(jobID: "J", thing: "a", statusDetails: details, time: 300, inProgressTimeoutMinutes: 10),
            ProgressReport(jobID: "J", thing: "b", statusDetails: nil, time: 300, inProgressTimeoutMinutes: 10),
            ProgressReport(jobID: "J", thing: "c", statusDetails: details, time: 300, inProgressTimeoutMinutes: nil),
            ProgressReport(jobID: "J", thing: "queued", statusDetails: nil, time: 300, inProgressTimeoutMinutes: 1),
        ]
        let before = try #require(store.databaseStatements)
        let (results, claimed, statements) = try await store.transaction(.autocommit) { transaction in
            let results = try transaction.recordProgressFirst(
                reports, locks: PostgresStore.TransactionKind.ThingLocks(things: things))
            let statements = try #require(store.databaseStatements) - before
            let claimed = try reports.map { try transaction.recordProgress($0) }
            let again = try transaction.recordProgress(reports[0])  // claimed once: this one is its own statement
            return (results, claimed + [again], statements)
        }
        #expect(statements == 1, "one statement for them all, the locks included, and no BEGIN or COMMIT")
        #expect(results == Array(claimed.prefix(4)))
        for (index, report) in reports.enumerated() where report.thing != "queued" {
            var original = running
            original.thingName = report.thing
            original.startedAt = report.thing == "b" ? 50 : nil
            var expected = ExecutionTransitions.applyDeviceUpdate(
                original, status: .inProgress, statusDetails: report.statusDetails, now: report.time,
                inProgressTimeoutMinutes: report.inProgressTimeoutMinutes, stepTimeoutMinutes: nil)
            expected.sequence = try #require(claimed[index]).sequence
            #expect(claimed[index] == expected)
            // Committed without a COMMIT (a's was recorded again since).
            let stored = try await store.read { try $0.execution(jobID: "J", thing: report.thing) }
            #expect(stored == (report.thing == "a" ? claimed[4] : expected))
        }
        #expect(claimed[3] == nil, "QUEUED is not in progress")
        #expect(claimed[4]?.versionNumber == 4, "a second ask is recorded again, on its own")
        await store.close()
    }

    /// The statement that records progress first takes the locks a write of those things takes, before it changes
    /// anything: a serialized write that read an execution and changes it later finds it as it read it (its
    /// version check passes), and the progress report, recorded after it, keeps what that write changed.
    @Test func progressRecordedFirstWaitsForTheWriteLockAndLosesNothing() async throws {
        let store = try await Self.storeWithJobInProgress(for: "a", things: ["a"], connections: 4)
        let (read, go) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        let serialized = Task {
            try await store.write { writer -> Bool in
                let current = try #require(try writer.execution(jobID: "J", thing: "a"))
                read.signal()
                go.wait()
                var changed = current
                changed.timeoutAt = 999
                changed.versionNumber += 1
                return try writer.replace(changed, expectedVersion: current.versionNumber)
            }
        }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                read.wait()
                continuation.resume()
            }
        }
        let report = ProgressReport(jobID: "J", thing: "a", statusDetails: nil, time: 300, inProgressTimeoutMinutes: 5)
        let progress = Task { try await store.write(thing: "a", progress: report) { try $0.recordProgress(report) } }
        let waitingForALock = #"SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"#
        #expect(
            await eventually {
                (try? await store.read { try ($0 as? PostgresTransaction)?.strings(waitingForALock) }) == ["1"]
            })
        go.signal()
        #expect(try await serialized.value, "the execution was as the serialized write read it")
        let recorded = try #require(try await progress.value)
        #expect(recorded.versionNumber == 3 && recorded.timeoutAt == 999 && recorded.lastUpdatedAt == 300)
        await store.close()
    }

    /// A batch of plain progress reports is one statement; a body that wants more than its recorded progress runs
    /// again with the rest of the batch, in a transaction, and is answered with what was recorded (not recorded
    /// twice); a report on an execution not in progress changed nothing and runs with the rest, told so (not tried
    /// again); a body that throws after its progress was recorded gets its error, and the progress stands.
    @Test func aBodyThatWantsMoreThanItsRecordedProgressRunsAgainWithTheRest() async throws {
        let url = try await PostgresTestDatabase.create()
        let store = try PostgresStore(url: url, maximumConnections: 8, logger: Logger(label: "test"))
        try await store.prepare()
        let things = ["a", "b", "c", "d"]
        try await store.write { writer in
            try StoreContractTests.seed(writer, jobs: ["J"], things: things)
            for thing in things {
                var execution = StoreContractTests.execution("J", thing)
                execution.status = thing == "c" ? .queued : .inProgress
                _ = try writer.insert(execution)
            }
        }
        @Sendable func report(_ thing: String) -> ProgressReport {
            ProgressReport(jobID: "J", thing: thing, statusDetails: nil, time: 300, inProgressTimeoutMinutes: nil)
        }
        // One report alone: the whole write is one statement.
        let statementsBefore = try #require(store.databaseStatements)
        let alone = try await store.write(thing: "d", progress: report("d")) { try $0.recordProgress(report("d")) }
        #expect(alone?.versionNumber == 2)
        #expect(try #require(store.databaseStatements) - statementsBefore == 1)

        // Holders occupy the lanes until every report is queued behind them: the reports go in one batch.
        let holders = await LaneHolders.occupy(store)
        struct Refused: Error {}
        let asking = Task {
            try await store.write(thing: "a", progress: report("a")) { try $0.recordProgress(report("a")) }
        }
        let wantingMore = Task {
            try await store.write(thing: "b", progress: report("b")) { writer -> JobExecution? in
                let recorded = try writer.recordProgress(report("b"))
                try writer.save(Thing(name: "b", attributes: ["n": "1"], createdAt: 1))
                return recorded
            }
        }
        let notInProgress = Task {
            try await store.write(thing: "c", progress: report("c")) { try $0.recordProgress(report("c")) }
        }
        let throwing = Task {
            try await store.write(thing: "d", progress: report("d")) { writer in
                _ = try writer.recordProgress(report("d"))
                throw Refused()
            }
        }
        #expect(await eventually { store.reports.queued == 4 })
        let batchBefore = try #require(store.databaseStatements)
        try await holders.release()
        #expect(try await asking.value?.versionNumber == 2)
        #expect(try await wantingMore.value?.versionNumber == 2, "b's progress, recorded first, is its answer")
        #expect(try await notInProgress.value == nil)
        await #expect(throws: Refused.self) { try await throwing.value }
        // The holders send nothing (a transaction opens at its first statement). The reports of a, b, c and d in one
        // statement; the rest (b and c) in BEGIN, their locks, b's thing and COMMIT. c is told its report changed
        // nothing, not sent the same UPDATE again.
        let batchStatements = try #require(store.databaseStatements) - batchBefore
        #expect(batchStatements == 5)
        let (b, c, d, thingB) = try await store.read { reader in
            (
                try reader.execution(jobID: "J", thing: "b"), try reader.execution(jobID: "J", thing: "c"),
                try reader.execution(jobID: "J", thing: "d"), try reader.thing(named: "b")
            )
        }
        #expect(b?.versionNumber == 2, "recorded once, not again when its body ran with the rest")
        #expect(thingB?.attributes == ["n": "1"])
        #expect(c?.versionNumber == 1 && c?.status == .queued)
        #expect(d?.versionNumber == 3, "the progress stands though the body threw")
        #expect(store.reportCommits.batches == 6, "d alone, the holders' four, then the four reports together")
        await store.close()
    }

    /// When the server refuses the statement that records progress first, nothing was recorded and the batch runs
    /// whole in one transaction: each report is recorded there, once.
    @Test func aRefusedProgressFirstStatementLeavesTheBatchToOneTransaction() async throws {
        let store = try await Self.storeWithJobInProgress(for: "a", things: ["a"], connections: 4)
        // A trigger that refuses only the progress-first statement (its text starts with its CTE); the same UPDATE
        // inside a transaction passes.
        _ = try await store.transaction(.serializedWrite) { transaction in
            try transaction.run(
                """
                CREATE FUNCTION "refuseProgressFirst"() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF current_query() LIKE 'WITH "locks"%' THEN RAISE EXCEPTION 'refused for the test'; END IF;
                  RETURN NEW;
                END $$
                """)
            try transaction.run(
                """
                CREATE TRIGGER "refuseProgressFirst" BEFORE UPDATE ON "jobExecution"
                FOR EACH ROW EXECUTE FUNCTION "refuseProgressFirst"()
                """)
        }
        let report = ProgressReport(
            jobID: "J", thing: "a", statusDetails: nil, time: 300, inProgressTimeoutMinutes: nil)
        let before = try #require(store.databaseStatements)
        let recorded = try await store.write(thing: "a", progress: report) { try $0.recordProgress(report) }
        let statements = try #require(store.databaseStatements) - before
        #expect(recorded?.versionNumber == 2)
        #expect(try await store.read { try $0.execution(jobID: "J", thing: "a") }?.versionNumber == 2)
        #expect(statements == 5, "the refused statement, then BEGIN, the lock, the report and COMMIT")
        #expect(store.reportCommits.batches == 1)
        await store.close()
    }

    /// When the rest of a batch fails after its plain progress was recorded first, the progress reports that were
    /// done succeed (their change is committed) and only the rest fails, with the error that stopped it.
    @Test func aBatchWhoseRestFailsKeepsTheProgressRecordedFirst() async throws {
        let store = try await Self.storeWithJobInProgress(for: "a", things: ["a", "k"], connections: 8)
        // Holders occupy the lanes until every report is queued behind them: the reports go in one batch.
        let holders = await LaneHolders.occupy(store)
        let report = ProgressReport(
            jobID: "J", thing: "a", statusDetails: nil, time: 300, inProgressTimeoutMinutes: nil)
        let progress = Task { try await store.write(thing: "a", progress: report) { try $0.recordProgress(report) } }
        // Ends its own connection: its transaction, and the batch's rest with it, cannot commit.
        let breaking = Task {
            try await store.write(thing: "k") { writer in
                _ = try #require(writer as? PostgresTransaction).run("SELECT pg_terminate_backend(pg_backend_pid())")
            }
        }
        #expect(await eventually { store.reports.queued == 2 })
        try await holders.release()
        #expect(try await progress.value?.versionNumber == 2)
        await #expect(throws: StoreError.self) { try await breaking.value }
        #expect(try await store.read { try $0.execution(jobID: "J", thing: "a") }?.versionNumber == 2)
        await store.close()
    }

    @Test func oneInstanceLeadsTheSchedulerAndAnotherTakesOverWhenItGoes() async throws {
        let url = try await PostgresTestDatabase.create()
        let stores = try (0..<3).map { _ in try Self.instance(url) }
        let candidates = stores.map { PostgresSchedulerLeadership(pool: $0.pool, logger: Logger(label: "test")) }
        var leaders: [Bool] = []
        for candidate in candidates { leaders.append(await candidate.lead()) }
        #expect(leaders == [true, false, false], "the first to ask leads; the others stand by")
        #expect(await candidates[0].lead(), "and keeps leading")
        #expect(await candidates[1].lead() == false)
        // The leader's connection goes (its process died, say): the lock goes with it.
        await candidates[0].resign()
        #expect(await eventually { await candidates[2].lead() }, "a standby takes over")
        #expect(await candidates[1].lead() == false, "one leader at a time")
        #expect(await candidates[0].lead() == false, "the old leader comes back as a standby")
        for candidate in candidates { await candidate.resign() }
        for store in stores { await store.close() }
    }

    @Test func eachInstanceHearsTheOthersEventsNotItsOwn() async throws {
        let url = try await PostgresTestDatabase.create()
        let (storeA, storeB) = (try Self.instance(url), try Self.instance(url))
        try await storeA.prepare()
        let (a, b) = (
            PostgresClusterBus(store: storeA, logger: Logger(label: "a")),
            PostgresClusterBus(store: storeB, logger: Logger(label: "b"))
        )
        let heardByA = Mutex<[ClusterEvent]>([])
        let heardByB = Mutex<[ClusterEvent]>([])
        try await a.start(events: { event in heardByA.withLock { $0.append(event) } }, missed: {})
        try await b.start(events: { event in heardByB.withLock { $0.append(event) } }, missed: {})
        await b.announce(.deviceConnected(thing: "mover", milliseconds: 2000))
        await a.announce(.certificateChanged(fingerprint: "f1"))
        await a.announce(.nextChanged([.init(thing: "marker", jobID: "J", executionNumber: 1, versionNumber: 3)]))
        let fromA: [ClusterEvent] = [
            .certificateChanged(fingerprint: "f1"),
            .nextChanged([.init(thing: "marker", jobID: "J", executionNumber: 1, versionNumber: 3)]),
        ]
        #expect(await eventually { heardByB.withLock { $0 } == fromA }, "B hears A's events, in order")
        #expect(
            await eventually { heardByA.withLock { $0 } == [.deviceConnected(thing: "mover", milliseconds: 2000)] },
            "and A hears B's (its own listening connection, as quick or slow as B's)")
        await a.stop()
        await b.stop()
        await storeA.close()
        await storeB.close()
    }

    /// Announcements made while one is being sent wait and go out together, in one statement; every one arrives.
    @Test func announcementsMadeTogetherGoOutTogether() async throws {
        let url = try await PostgresTestDatabase.create()
        let listening = try Self.instance(url)
        try await listening.prepare()
        let sending = try PostgresStore(url: url, maximumConnections: 1, logger: Logger(label: "test"))
        let (listener, sender) = (
            PostgresClusterBus(store: listening, logger: Logger(label: "listener")),
            PostgresClusterBus(store: sending, logger: Logger(label: "sender"))
        )
        let heard = Mutex<[ClusterEvent]>([])
        try await listener.start(events: { event in heard.withLock { $0.append(event) } }, missed: {})
        // The sender's only connection is busy, so the first announcement waits for it and the others queue.
        let release = DispatchSemaphore(value: 0)
        let holding = Mutex(false)
        let before = sending.transactionCount
        let busy = Task {
            try await sending.transaction(.autocommit) { _ in
                holding.withLock { $0 = true }
                release.wait()
            }
        }
        #expect(await eventually { holding.withLock { $0 } })
        let events = (0..<120).map { ClusterEvent.deviceConnected(thing: "d\($0)", milliseconds: Int64($0)) }
        let announcing = events.map { event in Task { await sender.announce(event) } }
        #expect(await eventually { sender.unsentAnnouncements == events.count })
        release.signal()
        try await busy.value
        for announcement in announcing { await announcement.value }
        #expect(await eventually { heard.withLock { $0.count } >= events.count })
        #expect(heard.withLock { heard in heard.count == events.count && events.allSatisfy(heard.contains) })
        // The sender took the first announcement (or the first few) before the others came: two statements at most.
        #expect(sending.transactionCount - before - 1 <= 2)
        await listener.stop()
        await listening.close()
        await sending.close()
    }

    @Test func longThingListsAreCutToFitNotifications() throws {
        let changes = (0..<2000).map {
            ClusterEvent.NextExecution(
                thing: String(format: "thing-with-a-long-name-%05d", $0),
                jobID: "AFR_OTA-" + String(repeating: "j", count: 56),
                executionNumber: 1, versionNumber: Int64($0))
        }
        let payloads = try PostgresClusterBus.payloads(for: .nextChanged(changes), from: "me")
        #expect(payloads.count > 1 && payloads.allSatisfy { $0.utf8.count < 8000 })
        let decoded = try payloads.flatMap { payload -> [ClusterEvent.NextExecution] in
            let envelope = try JSONDecoder().decode(PostgresClusterBus.Envelope.self, from: Data(payload.utf8))
            guard case .nextChanged(let part) = envelope.event else { return [] }
            return part
        }
        #expect(decoded == changes, "every change once, in order")
    }

    @Test func aServerThatIsNotThereIsUnavailableNotAHang() async throws {
        let port = try freeLoopbackPort()
        let store = try Self.instance(try PostgresDatabaseURL("postgres://ota@127.0.0.1:\(port)/ota?sslmode=disable"))
        await #expect(throws: StoreError.self) { try await store.prepare() }
        do {
            _ = try await store.read { try $0.things() }
            Issue.record("a read without a server succeeded")
        } catch let error as StoreError {
            guard case .unavailable = error else {
                Issue.record("expected unavailable, got \(error)")
                return
            }
        }
    }

    @Test func databaseURLsAreReadAsLibpqReadsThemAndBadOnesAreRefused() throws {
        let url = try PostgresDatabaseURL(
            "postgresql://fleet:s3cret@db.example:6543/ota?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect(url.host == "db.example" && url.port == 6543 && url.user == "fleet" && url.password == "s3cret")
        #expect(url.database == "ota" && url.sslMode == .verifyFull && url.sslRootCertificate == "/etc/ca.pem")
        #expect(!url.description.contains("s3cret"), "the password never reaches a log")
        let awkward = try PostgresDatabaseURL("postgres://fleet:p%40ss%3Aw%2Frd@db:5432/ota?sslmode=require")
        #expect(awkward.password == "p@ss:w/rd")
        let again = try PostgresDatabaseURL(awkward.secretURLString)
        #expect(again.password == "p@ss:w/rd" && again.user == "fleet" && again.sslMode == .require, "handed on whole")
        #expect(try PostgresDatabaseURL("postgres://u@h/d").sslMode == .prefer, "libpq's default")
        #expect(try PostgresDatabaseURL("postgres://u@h/d").port == 5432)
        for bad in [
            "mysql://u@h/d", "postgres://h/d", "postgres://u@/d", "postgres://u@h", "postgres://u@h/",
            "postgres://u@h/d?sslmode=sometimes", "postgres://u@h/d?pool=3", "postgres://u@h:0/d", "not a url",
        ] {
            #expect(throws: OTAServiceError.self, "\(bad)") { _ = try PostgresDatabaseURL(bad) }
        }
    }
}

/// Writes that hold every group-commit lane of a store (PostgresStore runs four batches at once) until released, so
/// that what is submitted meanwhile waits and then goes in one batch.
final class LaneHolders: Sendable {
    private let gate = DispatchSemaphore(value: 0)
    private let started = Mutex(0)
    private let writes = Mutex<[Task<Void, any Error>]>([])

    /// Returns once every lane's holder is running.
    static func occupy(_ store: PostgresStore) async -> LaneHolders {
        let holders = LaneHolders()
        let writes = (0..<4).map { number in
            Task {
                try await store.write(thing: "holder\(number)") { _ in
                    holders.started.withLock { $0 += 1 }
                    holders.gate.wait()
                }
            }
        }
        holders.writes.withLock { $0 = writes }
        #expect(await eventually { holders.started.withLock { $0 } == 4 })
        return holders
    }

    /// Lets the holders commit, and waits until they did.
    func release() async throws {
        for _ in 0..<4 { gate.signal() }
        for write in writes.withLock({ $0 }) { try await write.value }
    }
}
