// Times every transaction of the store it wraps (swiftota_storage_transaction_seconds): the time the service
// waited for the database, a pooled connection or SQLite's writer included, which is what a slow rollout shows.

struct TimedStore: OTAStore {
    let base: any OTAStore
    let metrics: ServiceMetrics

    func prepare() async throws { try await base.prepare() }
    func close() async { await base.close() }
    var databaseTransactions: Int? { base.databaseTransactions }
    var databaseStatements: Int? { base.databaseStatements }
    var reportCommits: ReportCommitCounts { base.reportCommits }

    func read<T: Sendable>(_ body: @Sendable (any StoreReader) throws -> T) async throws -> T {
        try await timed(.read) { try await base.read(body) }
    }

    func write<T: Sendable>(_ body: @Sendable (any StoreWriter) throws -> T) async throws -> T {
        try await timed(.write) { try await base.write(body) }
    }

    func write<T: Sendable>(
        thing: String, progress: ProgressReport?, _ body: @Sendable (any StoreWriter) throws -> T
    ) async throws -> T {
        try await timed(.write) { try await base.write(thing: thing, progress: progress, body) }
    }

    func recordProgress(_ reports: [ProgressReport]) async throws -> [JobExecution?] {
        try await timed(.write) { try await base.recordProgress(reports) }
    }

    func recordSeen(thing: String, at time: Int64, interval: Int64) async throws {
        try await timed(.write) { try await base.recordSeen(thing: thing, at: time, interval: interval) }
    }

    private func timed<T>(_ access: ServiceMetrics.StorageAccess, _ work: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        defer { metrics.storageTransaction(access, took: ContinuousClock.now - start) }
        return try await work()
    }
}
