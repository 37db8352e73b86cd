// Stored-file records by id, kept after their first read: a record never changes once registered, and delivery
// asks for one per stream request or HTTP range (hundreds per device and image), which must not each be a
// database read.

public final class FileRecordCache: Sendable {
    private let store: any OTAStore
    private let records = ReadOnceCache<StoredFile>()

    public init(store: any OTAStore) {
        self.store = store
    }

    /// The record of file `id`, or nil when there is none.
    public func file(id: String) async throws -> StoredFile? {
        try await records.value(of: id) { [store] in try await store.read { try $0.file(id: id) } }
    }
}
