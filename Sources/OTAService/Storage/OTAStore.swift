import OTAWire

// The storage contract. Every state change runs inside `write`, one transaction: it commits whole or not at
// all. Backends: SQLite through GRDB (`SQLiteStore`, the embedded default) and PostgreSQL through PostgresNIO
// (`PostgresStore`, for several instances sharing one database). The contract tests in
// Tests/OTAServiceTests/StoreContractTests.swift run against every backend.
//
// Transactions take synchronous closures: the engine's decisions between reads and writes are pure and quick,
// and a closure keeps a unit of work in one place. A PostgreSQL backend runs the closure on a dedicated
// connection inside BEGIN … COMMIT.

public protocol OTAStore: Sendable {
    /// Brings the schema up to date and checks that the database answers; `ota serve` calls it before it serves.
    func prepare() async throws
    /// Lets go of connections; the store is not used afterwards.
    func close() async
    /// A consistent view. A backend may run `body` more than once (PostgreSQL first tries it as a single statement)
    /// and keeps the last run's result, so a body only reads.
    func read<T: Sendable>(_ body: @Sendable (any StoreReader) throws -> T) async throws -> T
    func write<T: Sendable>(_ body: @Sendable (any StoreWriter) throws -> T) async throws -> T
    /// A write that changes only `thing`'s own records (its executions, its last-seen time: a device's report).
    /// A backend may run such writes for different things at once, and commit several in one transaction (group
    /// commit, GroupCommit.swift: a body that throws undoes only its own changes — by a savepoint each, or on
    /// PostgreSQL by running the batch again with savepoints when one must be undone). It still runs them one at a
    /// time per thing, in the order they came, and never beside a `write`, which may touch everything. It returns
    /// once the change is committed. A backend may roll back a try of a batch and run its bodies again, so a body
    /// changes nothing but the store.
    ///
    /// With `progress`, the body's first store call is `recordProgress(progress)`, and the backend may record it
    /// before the body runs — committed at once, with other reports of the batch (PostgreSQL) — and answer that
    /// call with the result. Such a body should return once `recordProgress` answered with an execution: what it
    /// does after that runs again in a transaction of its own, where the same call gets the same answer (which other
    /// writes may have overtaken since), and the progress may stand even if the body then throws. A nil answer (the
    /// report changed nothing: the execution was not in progress) may likewise predate the body's transaction: the
    /// body must read what it acts on there, not conclude from the nil.
    func write<T: Sendable>(
        thing: String, progress: ProgressReport?, _ body: @Sendable (any StoreWriter) throws -> T
    ) async throws -> T
    /// Records plain progress reports — each as `StoreWriter.recordProgress` does, at most one per execution — in one
    /// commit (JobEngine+HeldProgress.swift). Each result is the execution as recorded, or nil where it was not in
    /// progress (nothing changed for it). It never runs beside a `write(thing:)` of one of these things that came
    /// before it (the engine waits for those), and each report's change is the same as through that call.
    func recordProgress(_ reports: [ProgressReport]) async throws -> [JobExecution?]
    /// Sets `thing`'s last-seen time to `time`, unless it was seen less than `interval` seconds before (a device that
    /// reconnects sooner costs nothing more). Changes that column alone: no other writer's change is overwritten.
    /// A thing that does not exist is left alone. PostgreSQL makes this one statement, with no read and no lock.
    func recordSeen(thing: String, at time: Int64, interval: Int64) async throws
    /// Transactions run since start, where the backend counts them (PostgreSQL: each is round trips); nil otherwise.
    var databaseTransactions: Int? { get }
    /// Statements sent since start, where the backend counts them (PostgreSQL: each is a round trip, BEGIN and
    /// COMMIT included); nil otherwise.
    var databaseStatements: Int? { get }
    /// The `write(thing:)` calls committed since start, and in how many transactions (group commit).
    var reportCommits: ReportCommitCounts { get }
}

/// How well group commit gathers devices' reports: `reports` committed in `batches` transactions.
public struct ReportCommitCounts: Sendable, Equatable, Codable {
    public var batches = 0
    public var reports = 0

    public init(batches: Int = 0, reports: Int = 0) {
        self.batches = batches
        self.reports = reports
    }
}

extension OTAStore {
    /// SQLite migrates when it opens its file.
    public func prepare() async throws {}
    /// SQLite's file closes with the store.
    public func close() async {}
    public var databaseTransactions: Int? { nil }
    public var databaseStatements: Int? { nil }

    public func write<T: Sendable>(thing: String, _ body: @Sendable (any StoreWriter) throws -> T) async throws -> T {
        try await write(thing: thing, progress: nil, body)
    }

    /// As a write of the thing's own records (SQLite: in process, a read costs nothing).
    public func recordSeen(thing: String, at time: Int64, interval: Int64) async throws {
        try await write(thing: thing) { writer in
            guard var record = try writer.thing(named: thing) else { return }
            if let last = record.lastSeenAt, time - last < interval { return }
            record.lastSeenAt = time
            try writer.save(record)
        }
    }
}

public protocol StoreReader {
    func thing(named name: String) throws -> Thing?
    func things() throws -> [Thing]
    func group(named name: String) throws -> ThingGroup?
    func groups() throws -> [ThingGroup]
    /// Static members of a group (dynamic groups have none stored).
    func staticMembers(of group: String) throws -> [String]
    /// Static groups `thing` belongs to.
    func staticGroups(of thing: String) throws -> [String]

    func certificate(fingerprint: String) throws -> DeviceCertificate?
    func certificates(of thing: String) throws -> [DeviceCertificate]
    /// Every device certificate, of every thing (the gateway's trust snapshot).
    func deviceCertificates() throws -> [DeviceCertificate]
    func caCertificate(fingerprint: String) throws -> CACertificate?
    /// Registered CAs, oldest first.
    func caCertificates() throws -> [CACertificate]

    func file(id: String) throws -> StoredFile?
    func files() throws -> [StoredFile]
    func signingProfile(named name: String) throws -> SigningProfileRecord?
    func signingProfiles() throws -> [SigningProfileRecord]

    func update(id: String) throws -> OTAUpdate?
    func updates() throws -> [OTAUpdate]
    func job(id: String) throws -> Job?
    func jobs() throws -> [Job]
    func activeJobs() throws -> [Job]
    func stream(id: String) throws -> StreamRecord?

    /// The latest execution (highest execution number) of `jobID` for `thing`.
    func execution(jobID: String, thing: String) throws -> JobExecution?
    func executions(jobID: String) throws -> [JobExecution]
    /// The job's latest executions counted by status where the data is (ExecutionTally.swift says why).
    func executionTally(jobID: String, queuedAfter time: Int64) throws -> ExecutionTally
    /// Latest execution per job for `thing`, in queue order.
    func executions(thing: String) throws -> [JobExecution]
    /// `executions(thing:)` of each of `things`, read together (StoreBatches.swift).
    func executions(things: [String]) throws -> [String: [JobExecution]]
    /// Targets of a job that the rollout has not released yet, in the order they were added.
    func pendingTargets(jobID: String, limit: Int) throws -> [String]
    func pendingTargetCount(jobID: String) throws -> Int
    /// IN_PROGRESS executions whose `timeoutAt` is at or before `time`.
    func timedOutExecutions(at time: Int64) throws -> [JobExecution]

    func operatorAccount(named name: String) throws -> OperatorAccount?
    func operatorAccounts() throws -> [OperatorAccount]
    func apiToken(digest: String) throws -> APITokenRecord?
    /// The account's tokens, revoked ones too, oldest first.
    func apiTokens(of operatorName: String) throws -> [APITokenRecord]
    /// Audit entries with a sequence above `after`, oldest first, at most `limit`.
    func auditEntries(after: Int64, limit: Int) throws -> [AuditEntry]
    /// The newest audit entries with a sequence below `before`, newest first, at most `limit`.
    func latestAuditEntries(before: Int64, limit: Int) throws -> [AuditEntry]
    func consoleSession(digest: String) throws -> ConsoleSession?
}

public protocol StoreWriter: StoreReader {
    /// Inserts or replaces.
    func save(_ thing: Thing) throws
    func deleteThing(named name: String) throws
    func save(_ group: ThingGroup) throws
    func deleteGroup(named name: String) throws
    func addMember(_ thing: String, to group: String) throws
    func removeMember(_ thing: String, from group: String) throws
    func save(_ certificate: DeviceCertificate) throws
    func save(_ authority: CACertificate) throws
    func save(_ file: StoredFile) throws
    func save(_ profile: SigningProfileRecord) throws
    func save(_ update: OTAUpdate) throws
    func save(_ job: Job) throws
    func save(_ stream: StreamRecord) throws
    /// Inserts a new execution; its `sequence` is assigned by the store and returned.
    func insert(_ execution: JobExecution) throws -> JobExecution
    /// Inserts new executions in order; returned with their sequences, in order.
    func insert(_ executions: [JobExecution]) throws -> [JobExecution]
    /// Replaces the execution with the same job, thing and execution number, only if its stored version is
    /// `expectedVersion`; returns false (and changes nothing) otherwise.
    func replace(_ execution: JobExecution, expectedVersion: Int64) throws -> Bool
    /// A device's progress report (IN_PROGRESS again, new details) on the latest execution of `jobID` for `thing`:
    /// when that execution is IN_PROGRESS it is stored as `ExecutionTransitions.applyDeviceUpdate` would make it
    /// and returned; nil, changing nothing, otherwise. The default reads and replaces; a store where each statement
    /// is a round trip does it in one.
    func recordProgress(
        jobID: String, thing: String, statusDetails: JSONObject?, at time: Int64, inProgressTimeoutMinutes: Int?
    ) throws -> JobExecution?
    func addPendingTargets(jobID: String, things: [String]) throws
    func removePendingTarget(jobID: String, thing: String) throws
    func removePendingTargets(jobID: String, things: [String]) throws
    func removeAllPendingTargets(jobID: String) throws

    /// Inserts or replaces.
    func save(_ account: OperatorAccount) throws
    func save(_ token: APITokenRecord) throws
    /// Appends an entry; its `sequence` is assigned by the store and returned. Entries are never changed or removed.
    func append(_ entry: AuditEntry) throws -> AuditEntry
    /// Inserts or replaces.
    func save(_ session: ConsoleSession) throws
    /// Ends a session (`digest`: logout), every session of an account (`operatorName`: its password changed, it was
    /// disabled), and every session last seen before `idleBefore` (expired ones).
    func deleteConsoleSessions(digest: String?, operatorName: String?, idleBefore: Int64) throws
}

public enum StoreError: Error, CustomStringConvertible, Equatable {
    case notFound(String)
    case conflict(String)
    case corrupt(String)
    /// The database cannot be reached (PostgreSQL down or restarting): the request may succeed later.
    case unavailable(String)

    public var description: String {
        switch self {
        case .notFound(let what): return "not found: \(what)"
        case .conflict(let what): return "conflict: \(what)"
        case .corrupt(let what): return "stored data is corrupt: \(what)"
        case .unavailable(let why): return "the database is unavailable: \(why)"
        }
    }
}
