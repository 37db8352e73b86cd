import Foundation
import OTAService
import OTAWire
import TestSupport
import Testing

// The storage contract every backend must keep (Sources/OTAService/Storage/OTAStore.swift). Each test takes a
// fresh store from `backends`: SQLite in a temporary file, PostgreSQL in a database of its own on the real server
// scripts/test starts (PostgresTestDatabase.swift).
@Suite(.serialized) struct StoreContractTests {
    struct Backend: Sendable, CustomTestStringConvertible {
        let name: String
        let make: @Sendable (TemporaryDirectory) async throws -> any OTAStore
        var testDescription: String { name }
    }

    static let backends: [Backend] = [
        Backend(name: "SQLite") { directory in try SQLiteStore(path: directory.path("store.sqlite")) },
        Backend(name: "PostgreSQL") { directory in try await PostgresTestDatabase.store(for: directory) },
    ]

    static func execution(_ job: String, _ thing: String, number: Int64 = 1) -> JobExecution {
        JobExecution(
            jobID: job, thingName: thing, executionNumber: number, status: .queued, statusDetails: nil, queuedAt: 100,
            startedAt: nil, lastUpdatedAt: 100, versionNumber: 1, timeoutAt: nil, sequence: 0)
    }

    /// A fresh store with job J, thing t and J's first execution for t, QUEUED.
    static func oneQueuedExecution(
        _ backend: Backend, in directory: TemporaryDirectory
    ) async throws -> (any OTAStore, JobExecution) {
        let store = try await backend.make(directory)
        let inserted = try await store.write { writer in
            try Self.seed(writer, jobs: ["J"], things: ["t"])
            return try writer.insert(Self.execution("J", "t"))
        }
        return (store, inserted)
    }

    /// Executions and pending targets reference their job and thing; the store keeps that integrity.
    static func seed(_ writer: any StoreWriter, jobs: [String], things: [String]) throws {
        for name in things { try writer.save(Thing(name: name, createdAt: 1)) }
        try writer.save(StoredFile(id: "f", name: "fw.bin", size: 10, kind: .data, createdAt: 1))
        for id in jobs {
            try writer.save(
                StreamRecord(id: "S-" + id, files: [StreamFile(fileID: 0, storedFileID: "f", size: 10)], createdAt: 1))
            try writer.save(
                Job(
                    id: id, updateID: id, description: "", document: #"{"afr_ota":{}}"#, streamID: "S-" + id,
                    fileID: "f", targets: [], selection: .snapshot, rollout: RolloutConfig(), abortCriteria: [],
                    inProgressTimeoutMinutes: nil, createdAt: 1))
        }
    }

    @Test(arguments: backends) func integrityIsEnforced(_ backend: Backend) async throws {
        let directory = try TemporaryDirectory("store")
        let store = try await backend.make(directory)
        await #expect(throws: (any Error).self, "an execution of a job that does not exist") {
            try await store.write { _ = try $0.insert(Self.execution("nojob", "nothing")) }
        }
        #expect(try await store.read { try $0.executions(jobID: "nojob") }.isEmpty)
    }

    @Test(arguments: backends) func recordsRoundTripExactly(_ backend: Backend) async throws {
        let directory = try TemporaryDirectory("store")
        let store = try await backend.make(directory)
        let thing = Thing(name: "t1", attributes: ["region": "eu", "model": "v2"], createdAt: 5, lastSeenAt: 9)
        let group = ThingGroup(name: "g", description: "d", query: "region=eu", createdAt: 6)
        let file = StoredFile(
            id: String(repeating: "ab", count: 32), name: "fw.bin", size: 1234, kind: .app, version: "1.0.0",
            secureVersion: 2, projectName: "p", createdAt: 7)
        try await store.write { writer in
            try writer.save(thing)
            try writer.save(group)
            try writer.save(file)
        }
        let read = try await store.read { reader in
            (try reader.thing(named: "t1"), try reader.group(named: "g"), try reader.file(id: file.id))
        }
        #expect(read.0 == thing && read.1 == group && read.2 == file)
        #expect(try await store.read { try $0.thing(named: "nobody") } == nil)
    }

    @Test(arguments: backends) func aFailedTransactionChangesNothing(_ backend: Backend) async throws {
        let directory = try TemporaryDirectory("store")
        let store = try await backend.make(directory)
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            try await store.write { writer in
                try Self.seed(writer, jobs: ["J"], things: ["half"])
                _ = try writer.insert(Self.execution("J", "half"))
                throw Boom()
            }
        }
        let left = try await store.read { reader in (try reader.things(), try reader.executions(thing: "half")) }
        #expect(left.0.isEmpty && left.1.isEmpty)
    }

    @Test(arguments: backends) func replaceIsACompareAndSetOnTheVersion(_ backend: Backend) async throws {
        let directory = try TemporaryDirectory("store")
        let (store, inserted) = try await Self.oneQueuedExecution(backend, in: directory)
        #expect(inserted.sequence > 0)
        var changed = inserted
        changed.status = .inProgress
        changed.versionNumber = 2
        changed.statusDetails = #"{"receive":"1/2"}"#
        let moved = changed
        #expect(try await store.write { try $0.replace(moved, expectedVersion: 1) })
        changed = inserted
        changed.status = .failed
        changed.versionNumber = 2
        let stale = changed
        #expect(try await store.write { try $0.replace(stale, expectedVersion: 1) } == false)
        #expect(try await store.read { try $0.execution(jobID: "J", thing: "t") } == moved)
    }

    /// What a device's progress report stores (PostgreSQL in one statement, SQLite by read and replace) is what the
    /// state machine makes of it; anything but the latest execution in progress is left alone.
    @Test(arguments: backends) func progressIsStoredAsTheStateMachineMakesIt(_ backend: Backend) async throws {
        let directory = try TemporaryDirectory("store")
        let (store, queued) = try await Self.oneQueuedExecution(backend, in: directory)
        let progress = { (details: JSONObject?, time: Int64, minutes: Int?) in
            try await store.write { writer in
                try writer.recordProgress(
                    jobID: "J", thing: "t", statusDetails: details, at: time, inProgressTimeoutMinutes: minutes)
            }
        }
        let receive = { (text: String) in JSONObject([JSONMember("receive", .string(text))]) }
        #expect(try await progress(receive("1/2"), 150, nil) == nil, "QUEUED is not in progress")
        #expect(try await store.read { try $0.execution(jobID: "J", thing: "t") } == queued)

        var running = queued
        running.status = .inProgress
        running.startedAt = 200
        running.versionNumber = 2
        let started = running
        #expect(try await store.write { try $0.replace(started, expectedVersion: 1) })
        var expected = started
        for (details, time, minutes) in [
            (receive("25/256") as JSONObject?, Int64(300), 10 as Int?),  // arms the in-progress bound
            (nil, 400, nil),  // keeps the details and the timer
            (JSONObject([JSONMember("receive", .string("50/256")), JSONMember("note", .number("1"))]), 500, 10),
        ] {
            expected = ExecutionTransitions.applyDeviceUpdate(
                expected, status: .inProgress, statusDetails: details, now: time, inProgressTimeoutMinutes: minutes,
                stepTimeoutMinutes: nil)
            #expect(try await progress(details, time, minutes) == expected)
            #expect(try await store.read { try $0.execution(jobID: "J", thing: "t") } == expected)
        }
        #expect(expected.versionNumber == 5 && expected.timeoutAt == 800)

        // A later execution of the same job (QUEUED) is the latest: the older one in progress is not touched.
        let later = try await store.write { try $0.insert(Self.execution("J", "t", number: 2)) }
        #expect(try await progress(receive("9/9"), 600, nil) == nil)
        #expect(try await store.read { try $0.execution(jobID: "J", thing: "t") } == later)
        var older = expected
        older.status = .failed
        let failed = older
        #expect(try await store.write { try $0.replace(failed, expectedVersion: 5) }, "the older one kept version 5")
        #expect(
            try await store.write {
                try $0.recordProgress(
                    jobID: "J", thing: "nobody", statusDetails: nil, at: 700, inProgressTimeoutMinutes: nil)
            } == nil)
    }

    /// Held progress (OTAStore.recordProgress): each report as `recordProgress` makes it, in one call — two jobs of
    /// one thing included (PostgreSQL records a thing once per statement) — and nil where nothing was in progress.
    @Test(arguments: backends) func heldProgressIsRecordedTogetherAsOneByOne(_ backend: Backend) async throws {
        let directory = try TemporaryDirectory("store")
        let store = try await backend.make(directory)
        let running = try await store.write { writer -> [JobExecution] in
            try Self.seed(writer, jobs: ["J", "K"], things: ["t", "u", "v"])
            _ = try writer.insert(Self.execution("J", "u"))  // stays QUEUED
            return try [("J", "t"), ("K", "t"), ("J", "v")].map { job, thing in
                var execution = try writer.insert(Self.execution(job, thing))
                execution.status = .inProgress
                execution.startedAt = 150
                execution.versionNumber = 2
                guard try writer.replace(execution, expectedVersion: 1) else { throw TestFailure("not replaced") }
                return execution
            }
        }
        let before = store.reportCommits.reports
        let report = { (job: String, thing: String, text: String) in
            ProgressReport(
                jobID: job, thing: thing, statusDetails: JSONObject([JSONMember("receive", .string(text))]), time: 300,
                inProgressTimeoutMinutes: 5)
        }
        let reports = [
            report("J", "t", "1/4"), report("K", "t", "2/4"), report("J", "u", "3/4"), report("J", "v", "4/4"),
            report("J", "nobody", "5/4"),
        ]
        let results = try await store.recordProgress(reports)
        let expected = zip(running, [reports[0], reports[1], reports[3]]).map { execution, report in
            ExecutionTransitions.applyDeviceUpdate(
                execution, status: .inProgress, statusDetails: report.statusDetails, now: 300,
                inProgressTimeoutMinutes: 5, stepTimeoutMinutes: nil)
        }
        #expect(results == [expected[0], expected[1], nil, expected[2], nil])
        for execution in expected {
            #expect(
                try await store.read { try $0.execution(jobID: execution.jobID, thing: execution.thingName) }
                    == execution)
        }
        #expect(try await store.read { try $0.execution(jobID: "J", thing: "u") }?.status == .queued)
        #expect(store.reportCommits.reports == before + reports.count)
        #expect(try await store.recordProgress([]) == [])
        // A report older than the execution's last change is not recorded.
        #expect(
            try await store.recordProgress(
                [report("J", "t", "0/4")].map {
                    var old = $0; old.time = 299; return old
                }) == [nil])
        #expect(try await store.read { try $0.execution(jobID: "J", thing: "t") } == expected[0])
        await store.close()
    }

    @Test(arguments: backends) func executionsComeInQueueOrderAndLatestNumber(_ backend: Backend) async throws {
        let directory = try TemporaryDirectory("store")
        let store = try await backend.make(directory)
        try await store.write { writer in
            try Self.seed(writer, jobs: ["A", "B"], things: ["t", "other"])
            _ = try writer.insert(Self.execution("B", "t"))
            _ = try writer.insert(Self.execution("A", "t"))
            _ = try writer.insert(Self.execution("B", "t", number: 2))
            _ = try writer.insert(Self.execution("A", "other"))
        }
        let mine = try await store.read { try $0.executions(thing: "t") }
        #expect(mine.map(\.jobID) == ["A", "B"], "latest per job, ordered by when that execution was queued")
        #expect(mine.last?.executionNumber == 2)
        #expect(try await store.read { try $0.execution(jobID: "B", thing: "t")?.executionNumber } == 2)
        #expect(try await store.read { try $0.executions(jobID: "A") }.map(\.thingName).sorted() == ["other", "t"])
        await #expect(throws: (any Error).self) {
            try await store.write { _ = try $0.insert(Self.execution("A", "t")) }
        }
    }

    /// A thing's last-seen time moves at most once per interval, touches nothing else, and a thing that does not exist
    /// is left alone.
    @Test(arguments: backends) func lastSeenMovesOncePerIntervalAndTouchesNothingElse(_ backend: Backend) async throws {
        let directory = try TemporaryDirectory("store")
        let store = try await backend.make(directory)
        try await store.write { try $0.save(Thing(name: "t", attributes: ["region": "eu"], createdAt: 5)) }
        func seen() async throws -> Thing? { try await store.read { try $0.thing(named: "t") } }
        try await store.recordSeen(thing: "t", at: 1_000, interval: 60)
        #expect(try await seen()?.lastSeenAt == 1_000, "never seen before")
        try await store.recordSeen(thing: "t", at: 1_059, interval: 60)
        #expect(try await seen()?.lastSeenAt == 1_000, "within the interval")
        try await store.recordSeen(thing: "t", at: 1_060, interval: 60)
        #expect(try await seen() == Thing(name: "t", attributes: ["region": "eu"], createdAt: 5, lastSeenAt: 1_060))
        try await store.recordSeen(thing: "nobody", at: 2_000, interval: 60)
        #expect(try await store.read { try $0.thing(named: "nobody") } == nil)
        await store.close()
    }

    /// The calls for many things at once (a rollout's release) store and read what the calls for one thing do.
    @Test(arguments: backends) func manyThingsAtOnceAreWhatOneAtATimeIs(_ backend: Backend) async throws {
        let directory = try TemporaryDirectory("store")
        let store = try await backend.make(directory)
        var running = Self.execution("A", "v")
        running.status = .inProgress
        running.statusDetails = #"{"step":"1"}"#
        running.startedAt = 150
        running.timeoutAt = 900
        let started = running
        let inserted = try await store.write { writer in
            try Self.seed(writer, jobs: ["A", "B"], things: ["t", "u", "v", "w"])
            _ = try writer.insert(Self.execution("B", "t"))
            _ = try writer.insert(Self.execution("A", "t"))
            _ = try writer.insert(Self.execution("B", "t", number: 2))
            let alone = try writer.insert(Self.execution("A", "u"))
            var blank = Self.execution("B", "u")
            blank.statusDetails = ""
            let together = try writer.insert([
                started, blank, Self.execution("A", "t", number: 2), Self.execution("A", "t", number: 3),
            ])
            try writer.addPendingTargets(jobID: "A", things: ["w", "u", "t", "v"])
            try writer.removePendingTargets(jobID: "A", things: ["u", "v", "nobody"])
            return [alone] + together
        }
        #expect(
            inserted.map(\.sequence) == inserted.map(\.sequence).sorted() && Set(inserted.map(\.sequence)).count == 5)
        #expect(inserted[2].statusDetails == "", "empty details stay empty, not absent")
        // Each job's latest for a thing reads back as inserted (A's 2 for t is followed by its 3 in the same call).
        let latest = Dictionary(inserted.map { ($0.jobID + "/" + $0.thingName, $0) }, uniquingKeysWith: { $1 })
        #expect(latest["A/t"]?.executionNumber == 3)
        for execution in latest.values {
            #expect(
                try await store.read { try $0.execution(jobID: execution.jobID, thing: execution.thingName) }
                    == execution)
        }
        let things = ["t", "u", "v", "w", "nobody"]
        let together = try await store.read { try $0.executions(things: things) }
        for thing in things {
            #expect(together[thing] == (try await store.read { try $0.executions(thing: thing) }), "\(thing)")
        }
        #expect(together["t"]?.map(\.jobID) == ["B", "A"] && together["w"] == [] && together["nobody"] == [])
        #expect(try await store.read { try $0.pendingTargets(jobID: "A", limit: 10) } == ["w", "t"])
        // One that clashes with a stored execution refuses the whole write, the others with it.
        await #expect(throws: (any Error).self) {
            try await store.write { _ = try $0.insert([Self.execution("B", "w"), Self.execution("A", "u")]) }
        }
        #expect(try await store.read { try $0.executions(thing: "w") } == [])
    }

    /// The rollout's per-tick figures: the latest execution per thing counted by status, and those queued after a
    /// time. Each backend's answer must equal the count over the records.
    @Test(arguments: backends) func theExecutionTallyCountsTheLatestExecutionPerThing(_ backend: Backend) async throws {
        let directory = try TemporaryDirectory("store")
        let store = try await backend.make(directory)
        @Sendable func execution(
            _ thing: String, number: Int64 = 1, _ status: JobExecutionStatus, queuedAt: Int64
        ) -> JobExecution {
            var execution = Self.execution("J", thing, number: number)
            execution.status = status
            execution.queuedAt = queuedAt
            return execution
        }
        try await store.write { writer in
            try Self.seed(writer, jobs: ["J", "other"], things: ["a", "b", "c", "d", "e"])
            _ = try writer.insert(execution("a", .succeeded, queuedAt: 100))
            _ = try writer.insert(execution("b", .failed, queuedAt: 100))
            _ = try writer.insert(execution("b", number: 2, .inProgress, queuedAt: 200))  // a retry: b counts once
            _ = try writer.insert(execution("c", .queued, queuedAt: 150))
            _ = try writer.insert(execution("d", .timedOut, queuedAt: 300))
            var elsewhere = Self.execution("other", "e")
            elsewhere.status = .failed
            _ = try writer.insert(elsewhere)
        }
        let tally = try await store.read { try $0.executionTally(jobID: "J", queuedAfter: 150) }
        #expect(
            tally
                == ExecutionTally(byStatus: [.succeeded: 1, .inProgress: 1, .queued: 1, .timedOut: 1], queuedAfter: 2))
        #expect(tally.total == 4 && tally.open == 2)
        let counts = tally.counts
        #expect(counts.notified == 4 && counts.succeeded == 1 && counts.failed == 0 && counts.timedOut == 1)
        #expect(try await store.read { try $0.executionTally(jobID: "none", queuedAfter: 0) } == ExecutionTally())
    }

    @Test(arguments: backends) func pendingTargetsKeepTheirOrder(_ backend: Backend) async throws {
        let directory = try TemporaryDirectory("store")
        let store = try await backend.make(directory)
        try await store.write { writer in
            try Self.seed(writer, jobs: ["J"], things: ["a", "b", "c", "d"])
            try writer.addPendingTargets(jobID: "J", things: ["c", "a", "b", "d"])
        }
        #expect(try await store.read { try $0.pendingTargets(jobID: "J", limit: 3) } == ["c", "a", "b"])
        try await store.write { try $0.removePendingTarget(jobID: "J", thing: "a") }
        #expect(try await store.read { try $0.pendingTargets(jobID: "J", limit: 10) } == ["c", "b", "d"])
        #expect(try await store.read { try $0.pendingTargetCount(jobID: "J") } == 3)
        try await store.write { try $0.removeAllPendingTargets(jobID: "J") }
        #expect(try await store.read { try $0.pendingTargetCount(jobID: "J") } == 0)
    }

    @Test(arguments: backends) func timeoutsAndGroupMembership(_ backend: Backend) async throws {
        let directory = try TemporaryDirectory("store")
        let store = try await backend.make(directory)
        try await store.write { writer in
            try Self.seed(writer, jobs: ["J"], things: ["t1"])
            var running = try writer.insert(Self.execution("J", "t1"))
            running.status = .inProgress
            running.timeoutAt = 500
            _ = try writer.replace(running, expectedVersion: 1)
            try writer.save(ThingGroup(name: "g", createdAt: 1))
            try writer.addMember("t1", to: "g")
        }
        #expect(try await store.read { try $0.timedOutExecutions(at: 499) }.isEmpty)
        #expect(try await store.read { try $0.timedOutExecutions(at: 500) }.map(\.thingName) == ["t1"])
        #expect(try await store.read { try $0.staticMembers(of: "g") } == ["t1"])
        #expect(try await store.read { try $0.staticGroups(of: "t1") } == ["g"])
        try await store.write { try $0.removeMember("t1", from: "g") }
        #expect(try await store.read { try $0.staticMembers(of: "g") }.isEmpty)
    }

    @Test(arguments: backends) func aReopenedStoreHasEverythingThatWasCommitted(_ backend: Backend) async throws {
        let directory = try TemporaryDirectory("store")
        do {
            let store = try await backend.make(directory)
            try await store.write { writer in
                try Self.seed(writer, jobs: ["J"], things: ["kept"])
                _ = try writer.insert(Self.execution("J", "kept"))
            }
        }
        let reopened = try await backend.make(directory)
        #expect(try await reopened.read { try $0.thing(named: "kept") } != nil)
        #expect(try await reopened.read { try $0.execution(jobID: "J", thing: "kept") }?.status == .queued)
    }
}

extension StoreContractTests {
    static func certificate(_ fingerprint: String, thing: String, createdAt: Int64) -> DeviceCertificate {
        DeviceCertificate(
            fingerprint: fingerprint, thingName: thing, pem: "pem-" + fingerprint, status: .active, notAfter: 900,
            createdAt: createdAt)
    }

    static func authority(_ fingerprint: String, createdAt: Int64) -> CACertificate {
        CACertificate(
            fingerprint: fingerprint, subject: "CN=Factory CA " + fingerprint, pem: "pem-" + fingerprint,
            status: .active, notAfter: 2_000_000_000, createdAt: createdAt)
    }

    @Test(arguments: backends) func registeredCAsAndEveryDeviceCertificate(_ backend: Backend) async throws {
        let directory = try TemporaryDirectory("store")
        let store = try await backend.make(directory)
        let certificates = [
            Self.certificate("c1", thing: "a", createdAt: 1), Self.certificate("c2", thing: "b", createdAt: 2),
            Self.certificate("c3", thing: "a", createdAt: 3),
        ]
        let second = Self.authority("ca2", createdAt: 20)
        try await store.write { writer in
            try writer.save(Thing(name: "a", createdAt: 1))
            try writer.save(Thing(name: "b", createdAt: 1))
            for certificate in certificates.reversed() { try writer.save(certificate) }
            try writer.save(second)
            try writer.save(Self.authority("ca1", createdAt: 10))
        }
        #expect(try await store.read { try $0.deviceCertificates() } == certificates)
        #expect(try await store.read { try $0.caCertificates().map(\.fingerprint) } == ["ca1", "ca2"])
        #expect(try await store.read { try $0.caCertificate(fingerprint: "ca2") } == second)
        #expect(try await store.read { try $0.caCertificate(fingerprint: "nope") } == nil)

        var deactivated = second
        deactivated.status = .inactive
        try await store.write { [deactivated] in try $0.save(deactivated) }
        #expect(try await store.read { try $0.caCertificate(fingerprint: "ca2")?.status } == .inactive)
        #expect(try await store.read { try $0.caCertificates().count } == 2)
    }
}
