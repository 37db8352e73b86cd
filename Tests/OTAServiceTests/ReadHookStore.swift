import Synchronization

@testable import OTAService

/// A SQLite store whose reads are counted and go through a hook around them, for tests that slow reads down or
/// change the store while one is under way. `after` is told which read (1, 2, …) just returned.
struct ReadHookStore: OTAStore {
    let base: SQLiteStore
    let before: @Sendable () async throws -> Void
    let after: @Sendable (_ read: Int) async throws -> Void
    let reads = Counter()

    final class Counter: Sendable {
        let value = Atomic<Int>(0)
        var count: Int { value.load(ordering: .relaxed) }
    }

    init(
        base: SQLiteStore, before: @escaping @Sendable () async throws -> Void = {},
        after: @escaping @Sendable (_ read: Int) async throws -> Void = { _ in }
    ) {
        self.base = base
        self.before = before
        self.after = after
    }

    func prepare() async throws { try await base.prepare() }
    func close() async { await base.close() }
    var databaseTransactions: Int? { nil }
    var reportCommits: ReportCommitCounts { base.reportCommits }
    func read<T: Sendable>(_ body: @Sendable (any StoreReader) throws -> T) async throws -> T {
        let number = reads.value.add(1, ordering: .relaxed).newValue
        try await before()
        let result = try await base.read(body)
        try await after(number)
        return result
    }
    func write<T: Sendable>(_ body: @Sendable (any StoreWriter) throws -> T) async throws -> T {
        try await base.write(body)
    }
    func write<T: Sendable>(
        thing: String, progress: ProgressReport?, _ body: @Sendable (any StoreWriter) throws -> T
    ) async throws -> T {
        try await base.write(thing: thing, progress: progress, body)
    }
    func recordProgress(_ progress: [ProgressReport]) async throws -> [JobExecution?] {
        try await base.recordProgress(progress)
    }
}
