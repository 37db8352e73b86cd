import Synchronization

// Stored-file records by id, kept after their first read: a record never changes once registered, and delivery
// asks for one per stream request or HTTP range (hundreds per device and image), which must not each be a
// database read. A rollout's devices all ask at once for a record not read yet: they share one read.

public final class FileRecordCache: Sendable {
    private let store: any OTAStore
    private let records = Mutex<[String: StoredFile]>([:])
    /// Reads under way, by file id: a caller that misses while one runs waits for it rather than reading again.
    private let reads = Mutex<[String: Task<StoredFile?, any Error>]>([:])

    public init(store: any OTAStore) {
        self.store = store
    }

    /// The record of file `id`, or nil when there is none.
    public func file(id: String) async throws -> StoredFile? {
        if let known = records.withLock({ $0[id] }) { return known }
        let read = reads.withLock { reads in
            if let running = reads[id] { return running }
            let started = Task {
                // The record goes in before the read leaves: a later caller finds one or the other.
                defer { _ = self.reads.withLock { $0.removeValue(forKey: id) } }
                let record = try await self.store.read { try $0.file(id: id) }
                if let record { self.records.withLock { $0[id] = record } }
                return record
            }
            reads[id] = started
            return started
        }
        return try await read.value
    }
}
