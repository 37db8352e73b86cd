import Synchronization

// The contents of the files being delivered, shared by every device: 10,000 devices on one image cost one read of
// the store, not one per device or per block. Bounded by bytes (least recently used files leave first); a file is
// loaded once even when many devices ask for it at the same moment; what it holds was checked against the file's
// SHA-256 by the store.

public final class FileContentCache: Sendable {
    public let store: any FileStore
    public let capacityBytes: Int
    private let state = Mutex(State())

    struct State {
        var entries: [String: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
        var loading: [String: Task<[UInt8], any Error>] = [:]
        var storeReads = 0
    }

    struct Entry {
        var bytes: [UInt8]
        var lastUse: UInt64
    }

    /// 64 MiB holds sixteen of the largest images a FreeRTOS agent accepts (4 MiB).
    public static let defaultCapacityBytes = 64 << 20

    public init(store: any FileStore, capacityBytes: Int = FileContentCache.defaultCapacityBytes) {
        self.store = store
        self.capacityBytes = capacityBytes
    }

    /// How many times the store was read (the benchmark's "store reads per image").
    public var storeReads: Int { state.withLock { $0.storeReads } }

    public func contents(of file: StoredFile) async throws -> [UInt8] {
        let store = store
        let lookup = state.withLock { state -> Lookup in
            if var entry = state.entries[file.id] {
                state.clock += 1
                entry.lastUse = state.clock
                state.entries[file.id] = entry
                return .cached(entry.bytes)
            }
            if let loading = state.loading[file.id] { return .loading(loading) }
            state.storeReads += 1
            let loading = Task { try await store.contents(of: file) }
            state.loading[file.id] = loading
            return .loading(loading)
        }
        switch lookup {
        case .cached(let bytes):
            return bytes
        case .loading(let task):
            do {
                let bytes = try await task.value
                keep(bytes, for: file.id)
                return bytes
            } catch {
                state.withLock { _ = $0.loading.removeValue(forKey: file.id) }
                throw error
            }
        }
    }

    private enum Lookup {
        case cached([UInt8])
        case loading(Task<[UInt8], any Error>)
    }

    private func keep(_ bytes: [UInt8], for id: String) {
        state.withLock { state in
            state.loading.removeValue(forKey: id)
            guard state.entries[id] == nil, bytes.count <= capacityBytes else { return }
            while state.bytes + bytes.count > capacityBytes,
                let oldest = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse })
            {
                state.bytes -= oldest.value.bytes.count
                state.entries.removeValue(forKey: oldest.key)
            }
            state.clock += 1
            state.entries[id] = Entry(bytes: bytes, lastUse: state.clock)
            state.bytes += bytes.count
        }
    }
}
