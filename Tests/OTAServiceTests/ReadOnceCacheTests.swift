import Synchronization
import TestSupport
import Testing

@testable import OTAService

// Records that never change are read once (ReadOnceCache, here behind the file record cache): when a rollout's
// devices all ask for one at the same moment too.
struct ReadOnceCacheTests {
    /// A store whose reads are counted and slow, so that callers arriving together overlap.
    struct SlowReads: OTAStore {
        let base: SQLiteStore
        let reads = Counter()

        final class Counter: Sendable {
            let value = Mutex(0)
        }

        func prepare() async throws { try await base.prepare() }
        func close() async { await base.close() }
        var databaseTransactions: Int? { nil }
        var reportCommits: ReportCommitCounts { base.reportCommits }
        func read<T: Sendable>(_ body: @Sendable (any StoreReader) throws -> T) async throws -> T {
            reads.value.withLock { $0 += 1 }
            try await Task.sleep(for: .milliseconds(100))
            return try await base.read(body)
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

    @Test func callersMissingTogetherShareOneReadAndAMissingRecordIsNotKept() async throws {
        let directory = try TemporaryDirectory("file-record-cache")
        let store = SlowReads(base: try SQLiteStore(path: directory.path("store.sqlite")))
        let record = StoredFile(id: "f1", name: "firmware", size: 4, kind: .data, createdAt: 1)
        try await store.write { try $0.save(record) }
        let cache = FileRecordCache(store: store)
        let answers = try await withThrowingTaskGroup(of: StoredFile?.self) { group in
            for _ in 0..<20 { group.addTask { try await cache.file(id: "f1") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers == Array(repeating: record, count: 20))
        #expect(store.reads.value.withLock { $0 } == 1)
        #expect(try await cache.file(id: "f1") == record)
        #expect(try await cache.file(id: "absent") == nil)
        #expect(try await cache.file(id: "absent") == nil)
        #expect(store.reads.value.withLock { $0 } == 3)
        await store.close()
    }
}
