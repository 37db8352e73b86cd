import Synchronization
import TestSupport
import Testing

@testable import OTAService

// Records that never change are read once (ReadOnceCache, here behind the file record cache): when a rollout's
// devices all ask for one at the same moment too.
struct ReadOnceCacheTests {
    @Test func callersMissingTogetherShareOneReadAndAMissingRecordIsNotKept() async throws {
        let directory = try TemporaryDirectory("file-record-cache")
        // Slow reads, so that callers arriving together overlap.
        let store = ReadHookStore(base: try SQLiteStore(path: directory.path("store.sqlite"))) {
            try await Task.sleep(for: .milliseconds(100))
        }
        let record = StoredFile(id: "f1", name: "firmware", size: 4, kind: .data, createdAt: 1)
        try await store.write { try $0.save(record) }
        let cache = FileRecordCache(store: store)
        let answers = try await withThrowingTaskGroup(of: StoredFile?.self) { group in
            for _ in 0..<20 { group.addTask { try await cache.file(id: "f1") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers == Array(repeating: record, count: 20))
        #expect(store.reads.count == 1)
        #expect(try await cache.file(id: "f1") == record)
        #expect(try await cache.file(id: "absent") == nil)
        #expect(try await cache.file(id: "absent") == nil)
        #expect(store.reads.count == 3)
        await store.close()
    }
}
